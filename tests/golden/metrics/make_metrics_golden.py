#!/usr/bin/python3
"""Reference values for the PraNet training demo's evaluation metrics and image loader.

Run with Debian's NumPy / SciPy / Pillow (no PyTorch needed):
    apt-get install -y python3-numpy python3-scipy python3-pil
    /usr/bin/python3 tests/golden/metrics/make_metrics_golden.py

Writes, next to this script:
  metrics_cases.json  -- prediction maps + binary masks and their six scores (mean Dice, mean IoU, weighted
                         F-measure, S-measure, mean E-measure, MAE) plus intermediate values, computed here with
                         NumPy/SciPy straight from the definitions (see README.md), independently of the C# code:
                         per-pixel matrices instead of the C# count formulas, a brute-force nearest-foreground
                         search (checked against scipy.ndimage.distance_transform_edt) instead of the C#
                         lower-envelope transform, a 2-D Gaussian correlation (scipy.ndimage.correlate) instead
                         of the C# separable passes.
  loader_cases.json   -- Pillow's bilinear resize of float ("F" mode) images, which is the filter torchvision's
                         Resize applies to PIL images in PraNet's loader, and Pillow's RGB -> L conversion.

Everything is deterministic (fixed NumPy seeds). Floats are written with repr() (shortest round-trip).
"""
import json
import math
import os

import numpy as np
import PIL
from PIL import Image
import scipy
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = np.spacing(1.0)  # MATLAB's eps, 2^-52
THRESHOLDS = np.arange(256) / 255.0  # t = k/255, k = 0..255, binarisation p >= t


# ----------------------------------------------------------------------------------------------------------
# Metrics, from the definitions
# ----------------------------------------------------------------------------------------------------------
def dice_iou_curves(p, g):
    dice, iou = [], []
    for t in THRESHOLDS:
        b = p >= t
        tp = np.count_nonzero(b & g)
        if tp == 0:
            dice.append(0.0)
            iou.append(0.0)
        else:
            dice.append(2.0 * tp / (np.count_nonzero(b) + np.count_nonzero(g)))
            iou.append(tp / np.count_nonzero(b | g))
    return np.array(dice), np.array(iou)


def e_measure_binary(b, g):
    """Enhanced-alignment measure of a binary map b against g (Fan et al., IJCAI 2018), per pixel."""
    fm = b.astype(np.float64)
    gt = g.astype(np.float64)
    n = g.size
    if gt.sum() == 0:
        enhanced = 1.0 - fm
    elif (1 - gt).sum() == 0:
        enhanced = fm
    else:
        af = fm - fm.mean()
        ag = gt - gt.mean()
        align = 2.0 * (ag * af) / (ag * ag + af * af + EPS)
        enhanced = (align + 1.0) ** 2 / 4.0
    return enhanced.sum() / (n - 1 + EPS)


def e_curve(p, g):
    return np.array([e_measure_binary(p >= t, g) for t in THRESHOLDS])


def nearest_foreground(g):
    """Brute force: for every pixel, distance to and flat index of the nearest foreground pixel; ties -> the
    first foreground pixel in row-major order (np.argmin returns the first minimum)."""
    h, w = g.shape
    fy, fx = np.nonzero(g)  # row-major order
    yy, xx = np.mgrid[0:h, 0:w]
    d2 = (yy.reshape(-1, 1) - fy.reshape(1, -1)) ** 2 + (xx.reshape(-1, 1) - fx.reshape(1, -1)) ** 2
    k = np.argmin(d2, axis=1)
    dist = np.sqrt(d2[np.arange(h * w), k]).reshape(h, w)
    idx = (fy[k] * w + fx[k]).reshape(h, w)
    # The distances must agree with SciPy's exact EDT (its tie choice may differ, distances may not).
    assert np.array_equal(dist, ndimage.distance_transform_edt(~g))
    return dist, idx


def fspecial_gaussian(size=7, sigma=5.0):
    r = (size - 1) / 2.0
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    h = np.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def weighted_f(p, g):
    """Weighted F-measure (Margolin et al., CVPR 2014) as PraNet's original_WFb.m, beta^2 = 1; 0 for an empty g."""
    if not g.any():
        return 0.0, {}
    dst, idx = nearest_foreground(g)
    gt = g.astype(np.float64)
    e = np.abs(p - gt)
    et = e.reshape(-1)[idx.reshape(-1)].reshape(e.shape)  # background pixels take the nearest foreground's error
    ea = ndimage.correlate(et, fspecial_gaussian(), mode="constant", cval=0.0)
    min_e_ea = np.where(g & (ea < e), ea, e)
    b = np.where(g, 1.0, 2.0 - np.exp(np.log(1 - 0.5) / 5.0 * dst))
    ew = min_e_ea * b
    tpw = gt.sum() - ew[g].sum()
    fpw = ew[~g].sum()
    r = 1.0 - ew[g].mean()
    prec = tpw / (EPS + tpw + fpw)
    q = 2.0 * r * prec / (EPS + r + prec)
    return q, {"recall": r, "precision": prec}


def matlab_round(v):
    return math.floor(v + 0.5)  # positive values: half away from zero


def object_score(v):
    if v.size == 0:
        return 0.0
    m = v.mean()
    s = v.std(ddof=1) if v.size > 1 else 0.0
    return 2.0 * m / (m * m + 1.0 + s + EPS)


def block_ssim(p, g):
    n = p.size
    if n == 0:
        return 0.0  # an empty block has weight 0 (MATLAB would give NaN * 0)
    gt = g.astype(np.float64)
    x, y = p.mean(), gt.mean()
    sx = ((p - x) ** 2).sum() / (n - 1 + EPS)
    sy = ((gt - y) ** 2).sum() / (n - 1 + EPS)
    sxy = ((p - x) * (gt - y)).sum() / (n - 1 + EPS)
    a = 4 * x * y * sxy
    b = (x * x + y * y) * (sx + sy)
    if a != 0:
        return a / (b + EPS)
    return 1.0 if b == 0 else 0.0


def s_measure(p, g, alpha=0.5):
    """Structure measure (Fan et al., ICCV 2017) as PraNet's StructureMeasure.m / S_object.m / S_region.m."""
    y = g.mean()
    if y == 0:
        return 1.0 - p.mean(), {}
    if y == 1:
        return p.mean(), {}
    u = g.mean()
    s_obj = u * object_score(p[g]) + (1 - u) * object_score(1.0 - p[~g])
    h, w = g.shape
    rows, cols = np.nonzero(g)
    cx = matlab_round((cols + 1).sum() / rows.size)  # 1-based centroid column
    cy = matlab_round((rows + 1).sum() / rows.size)
    area = float(w * h)
    w1 = cx * cy / area
    w2 = (w - cx) * cy / area
    w3 = cx * (h - cy) / area
    w4 = 1.0 - w1 - w2 - w3
    s_reg = (w1 * block_ssim(p[:cy, :cx], g[:cy, :cx]) + w2 * block_ssim(p[:cy, cx:], g[:cy, cx:])
             + w3 * block_ssim(p[cy:, :cx], g[cy:, :cx]) + w4 * block_ssim(p[cy:, cx:], g[cy:, cx:]))
    q = max(alpha * s_obj + (1 - alpha) * s_reg, 0.0)
    return q, {"sObject": s_obj, "sRegion": s_reg, "centroidX": cx, "centroidY": cy}


def all_scores(p, g):
    dice, iou = dice_iou_curves(p, g)
    e = e_curve(p, g)
    wf, wf_parts = weighted_f(p, g)
    sm, s_parts = s_measure(p, g)
    out = {
        "meanDice": dice.mean(), "meanIoU": iou.mean(), "weightedF": wf, "sMeasure": sm,
        "meanEMeasure": e.mean(), "mae": np.abs(p - g.astype(np.float64)).mean(),
        "dice": dice.tolist(), "iou": iou.tolist(), "eMeasure": e.tolist(),
    }
    out.update(wf_parts)
    out.update(s_parts)
    return out


# ----------------------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------------------
def map_from_bytes(q):
    """im2double + mapminmax as PraNet's evaluation reads an 8-bit prediction PNG."""
    q = q.astype(np.int64)
    lo, hi = q.min(), q.max()
    if hi > lo and (lo != 0 or hi != 255):
        return (q - lo) / float(hi - lo)
    return q / 255.0


def ellipse(h, w, cy, cx, ry, rx):
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def smooth_noise(rng, h, w, passes=3):
    v = rng.rand(h, w)
    for _ in range(passes):
        v = ndimage.uniform_filter(v, size=3, mode="nearest")
    return v


def quantised(v):
    v = (v - v.min()) / (v.max() - v.min() + 1e-8)
    return map_from_bytes(np.floor(v * 255 + 0.5).astype(np.uint8))


def cases():
    rng = np.random.RandomState(20201)
    out = []

    g = ellipse(17, 23, 8, 10, 5, 7)
    p = quantised(np.clip(g * 0.7 + smooth_noise(rng, 17, 23) * 0.6, 0, None))
    out.append(("blob_quantised_17x23", p, g))

    g = ellipse(32, 40, 10, 12, 6, 8) | ellipse(32, 40, 22, 28, 7, 6)
    p = quantised(ellipse(32, 40, 11, 13, 6, 9) * 0.8 + rng.rand(32, 40) * 0.5)
    out.append(("two_blobs_noisy_32x40", p, g))

    g = np.zeros((12, 16), bool)
    out.append(("empty_mask_12x16", quantised(rng.rand(12, 16)), g))

    g = np.ones((10, 12), bool)
    out.append(("full_mask_10x12", quantised(rng.rand(10, 12)), g))

    g = np.zeros((15, 15), bool)
    g[6, 9] = True
    out.append(("single_pixel_mask_15x15", quantised(smooth_noise(rng, 15, 15)), g))

    g = ellipse(20, 20, 9, 10, 6, 5)
    out.append(("perfect_binary_20x20", g.astype(np.float64), g))
    out.append(("inverted_20x20", 1.0 - g.astype(np.float64), g))

    g = np.zeros((7, 9), bool)
    g[2:6, 8] = True  # foreground only in the last column: the centroid's right blocks are empty
    out.append(("last_column_mask_7x9", quantised(rng.rand(7, 9)), g))

    g = ellipse(10, 10, 4, 5, 3, 3)
    out.append(("constant_half_10x10", np.full((10, 10), 0.5), g))

    g = ellipse(29, 31, 13, 16, 9, 11)
    out.append(("continuous_29x31", np.clip(g * 0.6 + rng.rand(29, 31) * 0.5, 0, 1), g))

    # Two foreground pixels with different predictions, symmetric about the image's middle column: background
    # pixels on that column are equally near both, so the nearest-pixel tie rule decides their error.
    g = np.zeros((9, 11), bool)
    g[4, 2] = True
    g[4, 8] = True
    p = np.zeros((9, 11))
    p[4, 2] = 0.2
    p[4, 8] = 0.9
    p[0:3, :] = rng.rand(3, 11) * 0.3
    out.append(("tied_nearest_9x11", p, g))
    return out


def loader_cases():
    rng = np.random.RandomState(352)
    resize = []
    for (w, h, ow, oh) in [(37, 29, 16, 16), (7, 5, 16, 12), (50, 30, 24, 16), (16, 16, 16, 16), (33, 20, 11, 7)]:
        src = rng.rand(h, w).astype(np.float32)
        img = Image.fromarray(src, mode="F")
        dst = np.asarray(img.resize((ow, oh), Image.BILINEAR), dtype=np.float32)
        resize.append({"width": w, "height": h, "outWidth": ow, "outHeight": oh,
                       "input": [float(v) for v in src.reshape(-1)],
                       "output": [float(v) for v in dst.reshape(-1)]})
    rgb = rng.randint(0, 256, size=(1, 64, 3)).astype(np.uint8)
    rgb[0, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [129, 127, 128], [1, 2, 3]]
    luma = np.asarray(Image.fromarray(rgb, mode="RGB").convert("L"))
    return {"resize": resize,
            "luma": {"rgb": [int(v) for v in rgb.reshape(-1)], "gray": [int(v) for v in luma.reshape(-1)]}}


CURVE_CASES = ("blob_quantised_17x23", "continuous_29x31")


def main():
    doc = {"generator": "tests/golden/metrics/make_metrics_golden.py",
           "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "pillow": PIL.__version__},
           "cases": []}
    for name, p, g in cases():
        assert p.shape == g.shape and p.min() >= 0 and p.max() <= 1
        h, w = g.shape
        entry = {"name": name, "width": w, "height": h,
                 "prediction": [float(v) for v in p.reshape(-1)],
                 "mask": [int(v) for v in g.reshape(-1)]}
        scores = all_scores(p, g)
        if name not in CURVE_CASES:  # keep the file small: the per-threshold curves of two cases suffice
            for key in ("dice", "iou", "eMeasure"):
                del scores[key]
        entry.update({k: (float(v) if not isinstance(v, list) else [float(x) for x in v]) for k, v in scores.items()})
        doc["cases"].append(entry)
    with open(os.path.join(HERE, "metrics_cases.json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")
    loader = {"generator": doc["generator"], "versions": doc["versions"]}
    loader.update(loader_cases())
    with open(os.path.join(HERE, "loader_cases.json"), "w") as f:
        json.dump(loader, f)
        f.write("\n")
    for c in doc["cases"]:
        print("%-26s Dice %.6f IoU %.6f wF %.6f S %.6f E %.6f MAE %.6f" % (
            c["name"], c["meanDice"], c["meanIoU"], c["weightedF"], c["sMeasure"], c["meanEMeasure"], c["mae"]))


if __name__ == "__main__":
    main()
