"""Golden values for the softmax losses (tests/golden/multiclass), from PyTorch (Debian's python3-torch 1.13), float64.

Each file: shape [N, C, H, W], pred (logits), mask (one-hot or probability targets, NCHW), loss, grad = d loss / d pred.
Formulas (written here from the libraries' documented definitions; each is also checked against PyTorch's own function):
  ce             Σ -t·log_softmax(x) / Σ t; equals F.cross_entropy(x, labels, ignore_index=-100) for one-hot t whose
                 ignored rows are zero, and F.cross_entropy(x, t) for probability targets (asserted).
  ce_smooth      Σ t·(-(1-ε)·logp - ε·mean_c logp) / Σ t, ε = 0.1; equals F.cross_entropy(..., label_smoothing=0.1).
  softmax_dice   MONAI DiceLoss(softmax=True) defaults (include_background, batch=False, smooth_nr = smooth_dr = 1e-5):
                 mean over (n, c) of 1 - (2Σpt + 1e-5)/(Σp + Σt + 1e-5), p = softmax(x, 1).
  dice_ce        MONAI DiceCELoss(softmax=True) defaults: softmax_dice + mean cross-entropy over N·H·W (no ignored pixels).
  logsumexp_mean (logsumexp(x, 1, keepdim=True) * t).mean().
An all-ignored ce case has loss and grad null (PyTorch gives NaN).
Run: /usr/bin/python3 tests/golden/make_multiclass_golden.py
"""
import os

import golden_json
import torch
import torch.nn.functional as F

torch.manual_seed(2026)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiclass")
EPS = 0.1


def ce(x, t):
    return (-t * F.log_softmax(x, 1)).sum() / t.sum()


def ce_smooth(x, t):
    logp = F.log_softmax(x, 1)
    return (t * (-(1 - EPS) * logp - EPS * logp.mean(1, keepdim=True))).sum() / t.sum()


def softmax_dice(x, t):
    p = torch.softmax(x, 1)
    inter = (p * t).sum((2, 3))
    return (1 - (2 * inter + 1e-5) / (p.sum((2, 3)) + t.sum((2, 3)) + 1e-5)).mean()


def dice_ce(x, t):
    return softmax_dice(x, t) + ce(x, t)


def lse_mean(x, t):
    return (torch.logsumexp(x, 1, keepdim=True) * t).mean()


LOSSES = {"ce": ce, "ce_smooth": ce_smooth, "softmax_dice": softmax_dice, "dice_ce": dice_ce, "logsumexp_mean": lse_mean}


def labels(n, c, h, w, absent=None, ignore=True):
    y = torch.randint(0, c, (n, h, w))
    if absent is not None:
        y[y == absent] = (absent + 1) % c
    if ignore:
        y[torch.rand(n, h, w) < 0.15] = -100
    return y


def onehot(y, c):
    t = torch.zeros(y.shape[0], c, *y.shape[1:], dtype=torch.float64)
    for k in range(c):
        t[:, k] = (y == k).double()
    return t


def write(name, x, t, loss_fn):
    golden_json.write(OUT, name, x, t, loss_fn)


os.makedirs(OUT, exist_ok=True)
shapes = [(2, 3, 9, 13), (3, 5, 17, 16), (1, 2, 5, 7)]
for loss in LOSSES:
    for i, (n, c, h, w) in enumerate(shapes):
        tag = f"{loss}_{n}x{c}x{h}x{w}"
        x = torch.randn(n, c, h, w, dtype=torch.float64) * 2
        ignore = loss in ("ce", "ce_smooth")
        y = labels(n, c, h, w, absent=(c - 1) if i == 1 else None, ignore=ignore)
        t = torch.rand(n, c, h, w, dtype=torch.float64) if loss == "logsumexp_mean" else onehot(y, c)
        if loss == "ce":
            assert abs(ce(x, t) - F.cross_entropy(x, y, ignore_index=-100)) < 1e-12
            soft = torch.softmax(torch.randn(n, c, h, w, dtype=torch.float64), 1)
            assert abs(ce(x, soft) - F.cross_entropy(x, soft)) < 1e-12
            if i == 0:
                write(tag + "_soft", x, soft, ce)
        if loss == "ce_smooth":
            assert abs(ce_smooth(x, t) - F.cross_entropy(x, y, ignore_index=-100, label_smoothing=EPS)) < 1e-12
        write(tag, x, t, LOSSES[loss])
        if i == 0:
            write(tag + "_extreme", torch.randn(n, c, h, w, dtype=torch.float64) * 30, t, LOSSES[loss])
n, c, h, w = shapes[0]
write(f"ce_all_ignored_{n}x{c}x{h}x{w}", torch.randn(n, c, h, w, dtype=torch.float64), torch.zeros(n, c, h, w, dtype=torch.float64), ce)
