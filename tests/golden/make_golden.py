#!/usr/bin/python3
"""Generate golden reference cases for the F3Net / PraNet structure loss.

Run with Debian's PyTorch (1.13.1, CPU):
    apt-get install -y python3-torch
    /usr/bin/python3 tests/golden/make_golden.py

Every input (pred, mask) is generated in float32 and then widened to float64,
so the values written are exactly float32-representable. All loss and gradient
math is done in float64. Floats are written with repr() (shortest round-trip).
"""
import json
import math
import os
import warnings

import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # fixed reduction order -> reproducible output

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "cases")


# --------------------------------------------------------------------------
# The loss, float64. Returns (loss scalar, per-plane losses N x C).
# --------------------------------------------------------------------------
def structure_loss(pred, mask, form, kernel=31, gain=5.0, smooth=1.0):
    assert kernel % 2 == 1
    pad = kernel // 2
    weit = 1 + gain * torch.abs(
        F.avg_pool2d(mask, kernel_size=kernel, stride=1, padding=pad) - mask)
    if form == "weighted":
        wbce = F.binary_cross_entropy_with_logits(pred, mask, reduction="none")
    elif form == "pranet":
        # PraNet's code passes reduce='none' (legacy argument). The string is
        # truthy, so PyTorch maps it to reduction='mean': wbce is the scalar
        # mean BCE over the whole batch. Reproduced on purpose.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wbce = F.binary_cross_entropy_with_logits(pred, mask, reduce="none")
        assert wbce.dim() == 0
    else:
        raise ValueError(form)
    wbce = (weit * wbce).sum(dim=(2, 3)) / weit.sum(dim=(2, 3))
    p = torch.sigmoid(pred)
    inter = ((p * mask) * weit).sum(dim=(2, 3))
    union = ((p + mask) * weit).sum(dim=(2, 3))
    wiou = 1 - (inter + smooth) / (union - inter + smooth)
    plane = wbce + wiou
    return plane.mean(), plane


# --------------------------------------------------------------------------
# Input generators (all float32, deterministic via an explicit Generator).
# --------------------------------------------------------------------------
def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def logits(g, shape, scale=2.0):
    return (torch.randn(shape, generator=g, dtype=torch.float32) * scale).float()


def ellipse_mask(g, shape, count=3):
    n, c, h, w = shape
    yy = torch.arange(h, dtype=torch.float32).view(h, 1)
    xx = torch.arange(w, dtype=torch.float32).view(1, w)
    m = torch.zeros(shape, dtype=torch.float32)
    for i in range(n):
        for j in range(c):
            for _ in range(count):
                r = torch.rand(5, generator=g)
                cy, cx = r[0] * h, r[1] * w
                ay = 2 + r[2] * h / 3
                ax = 2 + r[3] * w / 3
                th = r[4] * math.pi
                dy, dx = yy - cy, xx - cx
                u = dx * math.cos(th) + dy * math.sin(th)
                v = -dx * math.sin(th) + dy * math.cos(th)
                inside = (u / ax) ** 2 + (v / ay) ** 2 <= 1
                m[i, j][inside] = 1.0
    return m


def noise_blob_mask(g, shape, k=5):
    noise = torch.randn(shape, generator=g, dtype=torch.float32)
    n, c, h, w = shape
    sm = F.avg_pool2d(noise.view(n * c, 1, h, w), k, stride=1, padding=k // 2,
                      count_include_pad=False).view(shape)
    return (sm > 0).float()


def soft_mask(g, shape, k=3):
    noise = torch.rand(shape, generator=g, dtype=torch.float32)
    n, c, h, w = shape
    sm = F.avg_pool2d(noise.view(n * c, 1, h, w), k, stride=1, padding=k // 2,
                      count_include_pad=False).view(shape)
    # stretch to use most of [0,1], clamp, stay float32
    lo, hi = sm.min(), sm.max()
    return ((sm - lo) / (hi - lo)).clamp(0, 1).float()


# --------------------------------------------------------------------------
# Cases: name -> (shape, kernel, gain, smooth, pred_fn, mask_fn)
# --------------------------------------------------------------------------
def case_default():
    g = gen(1001)
    s = (2, 1, 40, 40)
    return s, 31, 5.0, 1.0, logits(g, s), ellipse_mask(g, s)


def case_multichannel():
    g = gen(1002)
    s = (2, 3, 17, 23)
    return s, 31, 5.0, 1.0, logits(g, s), noise_blob_mask(g, s)


def case_small_image():
    g = gen(1003)
    s = (1, 1, 9, 12)
    return s, 31, 5.0, 1.0, logits(g, s), ellipse_mask(g, s, count=1)


def case_empty_mask():
    g = gen(1004)
    s = (2, 1, 12, 12)
    return s, 31, 5.0, 1.0, logits(g, s), torch.zeros(s, dtype=torch.float32)


def case_full_mask():
    g = gen(1005)
    s = (2, 1, 12, 12)
    return s, 31, 5.0, 1.0, logits(g, s), torch.ones(s, dtype=torch.float32)


def case_soft_targets():
    g = gen(1006)
    s = (2, 2, 16, 16)
    return s, 31, 5.0, 1.0, logits(g, s), soft_mask(g, s)


def case_extreme_logits():
    g = gen(1007)
    s = (2, 1, 16, 16)
    p = logits(g, s)
    flat = p.view(-1)
    specials = torch.tensor([1e4, -1e4, 80.0, -80.0, 30.0, -30.0, 17.0, -17.0,
                             1e3, -1e3], dtype=torch.float32)
    idx = torch.randperm(flat.numel(), generator=g)[:60]
    for t, i in enumerate(idx.tolist()):
        flat[i] = specials[t % len(specials)]
    return s, 31, 5.0, 1.0, p, ellipse_mask(g, s, count=2)


def case_kernel3():
    g = gen(1008)
    s = (3, 1, 20, 20)
    return s, 3, 2.0, 0.5, logits(g, s), ellipse_mask(g, s)


def case_kernel5():
    g = gen(1009)
    s = (3, 2, 15, 18)
    return s, 5, 5.0, 1.0, logits(g, s), noise_blob_mask(g, s, k=3)


CASES = [
    ("default_2x1x40x40", case_default),
    ("multichannel_2x3x17x23", case_multichannel),
    ("small_image_1x1x9x12_k31", case_small_image),
    ("empty_mask", case_empty_mask),
    ("full_mask", case_full_mask),
    ("soft_targets", case_soft_targets),
    ("extreme_logits", case_extreme_logits),
    ("kernel3_gain2_smooth05_n3", case_kernel3),
    ("kernel5_n3", case_kernel5),
]


def fl(t):
    out = [float(v) for v in t.reshape(-1).tolist()]
    for v in out:
        assert math.isfinite(v)
    return out


def make_case(base, fn, form):
    shape, k, gain, smooth, pred32, mask32 = fn()
    assert pred32.dtype == torch.float32 and mask32.dtype == torch.float32
    assert tuple(pred32.shape) == shape and tuple(mask32.shape) == shape
    pred = pred32.double().clone().requires_grad_(True)
    mask = mask32.double()
    loss, plane = structure_loss(pred, mask, form, k, gain, smooth)
    (grad,) = torch.autograd.grad(loss, pred)
    n, c, h, w = shape
    rec = {
        "name": base + "_" + form,
        "form": form,
        "n": n, "c": c, "h": h, "w": w,
        "kernel": k, "gain": gain, "smooth": smooth,
        "pred": fl(pred.detach()),
        "mask": fl(mask),
        "loss": float(loss.item()),
        "grad": fl(grad),
        "planeLoss": fl(plane.detach()),
    }
    assert math.isfinite(rec["loss"])
    return rec


def gradcheck_small():
    g = gen(4242)
    s = (2, 2, 7, 9)
    pred = logits(g, s).double().requires_grad_(True)
    mask = soft_mask(g, s).double()
    ok = True
    for form in ("weighted", "pranet"):
        f = lambda x: structure_loss(x, mask, form, 5, 3.0, 0.75)[0]
        r = torch.autograd.gradcheck(f, (pred,), eps=1e-6, atol=1e-8, rtol=1e-6)
        print("gradcheck %-8s 2x2x7x9 k5: %s" % (form, r))
        ok = ok and r
    return ok


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    print("torch", torch.__version__)
    for base, fn in CASES:
        for form in ("weighted", "pranet"):
            rec = make_case(base, fn, form)
            path = os.path.join(OUT_DIR, rec["name"] + ".json")
            with open(path, "w") as fh:
                # json writes floats with repr(): shortest round-trip form
                json.dump(rec, fh, separators=(",", ":"), allow_nan=False)
                fh.write("\n")
            print("%-40s loss=%r" % (rec["name"], rec["loss"]))
    assert gradcheck_small()


if __name__ == "__main__":
    main()
