#!/usr/bin/python3
"""Golden values for whole-batch losses (BatchSum and math on batch values).

Written from the libraries' formulas (not their code), float64, gradients by autograd:
  * MONAI 1.3 DiceLoss(sigmoid=True, batch=True), smooth_nr = smooth_dr = 1e-5, one channel:
        p = sigmoid(x);  L = 1 - (2 sum(p t) + 1e-5) / (sum(p) + sum(t) + 1e-5)   (sums over N, H, W)
  * segmentation_models_pytorch 0.3 TverskyLoss(mode='binary', alpha, beta, gamma), smooth 0, eps 1e-7:
        tp = sum(p t), fp = sum(p (1 - t)), fn = sum((1 - p) t)                   (sums over N, H, W)
        L = ((1 - tp / max(tp + alpha fp + beta fn, eps)) * [sum(t) > 0]) ** gamma  (no positives: 0)

Run with Debian's PyTorch 1.13.1:  /usr/bin/python3 tests/golden/make_batch_golden.py
Inputs are float32-representable; floats are written with repr().
"""
import json
import os

import torch

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "batch")


def monai_batch_dice(x, t):
    p = torch.sigmoid(x)
    return 1 - (2 * (p * t).sum() + 1e-5) / (p.sum() + t.sum() + 1e-5)


def smp_focal_tversky(x, t, alpha, beta, gamma):
    p = torch.sigmoid(x)
    tp = (p * t).sum()
    fp = (p * (1 - t)).sum()
    fn = ((1 - p) * t).sum()
    score = tp / (tp + alpha * fp + beta * fn).clamp_min(1e-7)
    return ((1 - score) * (t.sum() > 0).double()) ** gamma


def case(name, shape, seed, loss, scale=3.0, empty=False):
    g = torch.Generator().manual_seed(seed)
    x = ((torch.rand(shape, generator=g) * 2 - 1) * scale).float().double().requires_grad_(True)
    t = (torch.rand(shape, generator=g) > 0.6).float().double()
    if empty:
        t.zero_()  # no positives anywhere in the batch
    else:
        t.view(-1)[0] = 1.0  # at least one positive
    value = loss(x, t)
    value.backward()
    out = {
        "shape": list(shape),
        "pred": [float(v) for v in x.detach().reshape(-1)],
        "mask": [float(v) for v in t.reshape(-1)],
        "loss": float(value),
        "grad": [float(v) for v in x.grad.reshape(-1)],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for shape, seed in [((2, 1, 9, 13), 1), ((3, 1, 17, 16), 2)]:
        tag = "x".join(map(str, shape))
        case(f"monai_batch_dice_{tag}", shape, seed, monai_batch_dice)
        case(f"smp_focal_tversky_{tag}", shape, seed,
             lambda x, t: smp_focal_tversky(x, t, 0.3, 0.7, 4.0 / 3.0))
    case("smp_focal_tversky_empty_2x1x9x13", (2, 1, 9, 13), 3,
         lambda x, t: smp_focal_tversky(x, t, 0.3, 0.7, 4.0 / 3.0), empty=True)
