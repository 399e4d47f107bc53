"""Golden values for the per-class and foreground-only losses (tests/golden/multiclass), from PyTorch (Debian's
python3-torch 1.13), float64. Same file format as make_multiclass_golden.py; a different seed, so that file's goldens stay.

Each reference below is written here from the library's formula, as read in its source (versions named); none of those
libraries is imported. Targets are one-hot (multilabel: independent 0/1 per channel), with no ignored pixel.
  nnunet_dc_ce         nnU-Net v2 DC_and_CE_loss (MemoryEfficientSoftDiceLoss, commit 018b88d): batch_dice=True,
                       do_bg=False, smooth=1e-5, softmax; -mean_{c>=1} (2 I_c + s) / clip(T_c + P_c + s, 1e-8), sums over
                       (n, h, w); plus nn.CrossEntropyLoss on the labels (asserted equal to F.cross_entropy).
  nnunet_dc_ce_sample  the same with batch_dice=False: sums over (h, w), the mean over (n, c >= 1).
  monai_dice_ce_fg     MONAI DiceCELoss(softmax=True, include_background=False): mean over (n, c >= 1) of
                       1 - (2 I + 1e-5) / (P + T + 1e-5), softmax over every channel first; plus the mean cross-entropy.
  monai_dice_ce_batch  MONAI DiceCELoss(softmax=True, batch=True): sums over (n, h, w), the mean over c; plus the CE.
  smp_dice             smp DiceLoss('multiclass') (commit 0d8c7a6): p = log_softmax(x).exp(), dims (0, 2),
                       1 - 2 I / clamp_min(Σ(p + t), 1e-7), times [Σ t > 0], the mean over c.
  smp_dice_multilabel  smp DiceLoss('multilabel'): the same with p = logsigmoid(x).exp().
  smp_jaccard          smp JaccardLoss('multiclass'): 1 - I / clamp_min(Σ(p + t) - I, 1e-7), times [Σ t > 0], mean over c.
  smp_tversky          smp TverskyLoss('multiclass', alpha=beta=0.5, gamma=1): 1 - I / clamp_min(I + .5 FP + .5 FN, 1e-7),
                       times [Σ t > 0], mean over c.
  smp_focal            smp FocalLoss('multiclass', gamma=2, alpha=None): Σ_c mean_{n,h,w} (1 - exp(-bce))^2 bce of
                       channel c's logit against [label == c].
Run: /usr/bin/python3 tests/golden/make_class_golden.py
"""
import os

import golden_json
import torch
import torch.nn.functional as F

torch.manual_seed(20261203)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiclass")
SPATIAL = (2, 3)
BATCH = (0, 2, 3)


def ce(x, t):
    return (-t * F.log_softmax(x, 1)).sum() / t.sum()


def nnunet_dice(x, t, batch):
    p = torch.softmax(x, 1)[:, 1:]
    t = t[:, 1:]
    axes = BATCH if batch else SPATIAL
    inter, sp, st = (p * t).sum(axes), p.sum(axes), t.sum(axes)
    dc = (2 * inter + 1e-5) / torch.clip(st + sp + 1e-5, 1e-8)
    return -dc.mean()


def monai_dice(x, t, include_background=True, batch=False):
    p = torch.softmax(x, 1)
    if not include_background:
        p, t = p[:, 1:], t[:, 1:]
    axes = BATCH if batch else SPATIAL
    inter = (p * t).sum(axes)
    return (1 - (2 * inter + 1e-5) / (p.sum(axes) + t.sum(axes) + 1e-5)).mean()


def smp_score(p, t, kind):
    inter = (p * t).sum(BATCH)
    card = (p + t).sum(BATCH)
    if kind == "dice":
        score = 2 * inter / card.clamp_min(1e-7)
    elif kind == "jaccard":
        score = inter / (card - inter).clamp_min(1e-7)
    else:
        fp = (p * (1 - t)).sum(BATCH)
        fn = ((1 - p) * t).sum(BATCH)
        score = inter / (inter + 0.5 * fp + 0.5 * fn).clamp_min(1e-7)
    loss = (1 - score) * (t.sum(BATCH) > 0).to(p.dtype)
    return loss.mean()


def smp_focal(x, t):
    total = 0
    for c in range(x.shape[1]):
        bce = F.binary_cross_entropy_with_logits(x[:, c], t[:, c], reduction="none")
        total = total + ((1 - torch.exp(-bce)) ** 2 * bce).mean()
    return total


LOSSES = {
    "nnunet_dc_ce": lambda x, t: nnunet_dice(x, t, True) + ce(x, t),
    "nnunet_dc_ce_sample": lambda x, t: nnunet_dice(x, t, False) + ce(x, t),
    "monai_dice_ce_fg": lambda x, t: monai_dice(x, t, include_background=False) + ce(x, t),
    "monai_dice_ce_batch": lambda x, t: monai_dice(x, t, batch=True) + ce(x, t),
    "smp_dice": lambda x, t: smp_score(torch.softmax(x, 1), t, "dice"),
    "smp_dice_multilabel": lambda x, t: smp_score(torch.sigmoid(x), t, "dice"),
    "smp_jaccard": lambda x, t: smp_score(torch.softmax(x, 1), t, "jaccard"),
    "smp_tversky": lambda x, t: smp_score(torch.softmax(x, 1), t, "tversky"),
    "smp_focal": smp_focal,
}


def onehot(y, c):
    return F.one_hot(y, c).permute(0, 3, 1, 2).to(torch.float64)


def write(name, x, t, loss_fn):
    golden_json.write(OUT, name, x, t, loss_fn)


os.makedirs(OUT, exist_ok=True)
# An odd 2-D size, five classes with the last absent from the batch, two classes, and one channel (multilabel only).
shapes = [(2, 3, 9, 13), (3, 5, 17, 16), (1, 2, 5, 7), (2, 1, 7, 9)]
for loss, fn in LOSSES.items():
    for i, (n, c, h, w) in enumerate(shapes):
        if c == 1 and loss != "smp_dice_multilabel":
            continue  # a softmax over one channel is 1 everywhere: nothing to check
        tag = f"{loss}_{n}x{c}x{h}x{w}"
        x = torch.randn(n, c, h, w, dtype=torch.float64) * 2
        if loss == "smp_dice_multilabel":
            t = (torch.rand(n, c, h, w) < 0.4).to(torch.float64)
            if i == 1:
                t[:, c - 1] = 0
        else:
            y = torch.randint(0, c, (n, h, w))
            if i == 1:
                y[y == c - 1] = 0
            t = onehot(y, c)
            assert abs(ce(x, t) - F.cross_entropy(x, y)) < 1e-12
        write(tag, x, t, fn)
        if i == 0:
            write(tag + "_extreme", torch.randn(n, c, h, w, dtype=torch.float64) * 30, t, fn)
