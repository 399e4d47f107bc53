"""Golden values for losses on N×C×D×H×W volumes (tests/golden/multiclass/volume_*.json), from PyTorch (Debian's
python3-torch 1.13), float64. Same file format as make_multiclass_golden.py, with a five-entry shape.

  volume_structure      the structure loss (F3Net) on volumes: weit = 1 + 5·|avg_pool3d(mask, 31, 1, 15) - mask|
                        (count_include_pad: divisor 31³), per (n, c) plane the weighted BCE Σ weit·bce / Σ weit plus
                        the weighted IoU 1 - (Σ weit·p·t + 1) / (Σ weit·(p + t) - Σ weit·p·t + 1), sums over D·H·W,
                        mean over planes; a 7 window too (volume_structure7, LossDsl's Cpu test loss of that name).
  volume_nnunet_dc_ce   nnU-Net v2 DC_and_CE_loss (batch_dice=True, do_bg=False, smooth=1e-5) on a 3-D patch batch:
                        sums over (n, d, h, w) per class, -mean over the foreground classes, plus the mean CE.
Run: /usr/bin/python3 tests/golden/make_volume_golden.py
"""
import os

import golden_json
import torch
import torch.nn.functional as F

torch.manual_seed(3)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiclass")
SPACE = (2, 3, 4)


def structure(k):
    def loss(x, t):
        # avg_pool3d(t, k, 1, k // 2) with count_include_pad; PyTorch 1.13 refuses a volume smaller than the window even
        # with that padding, so the zeros are padded explicitly (the same sums, the same k³ divisor).
        weit = 1 + 5 * torch.abs(F.avg_pool3d(F.pad(t, (k // 2,) * 6), k, 1, 0) - t)
        wbce = (weit * F.binary_cross_entropy_with_logits(x, t, reduction="none")).sum(SPACE) / weit.sum(SPACE)
        p = torch.sigmoid(x)
        inter = (p * t * weit).sum(SPACE)
        union = ((p + t) * weit).sum(SPACE)
        return (wbce + 1 - (inter + 1) / (union - inter + 1)).mean()
    return loss


def nnunet(x, t):
    p = torch.softmax(x, 1)[:, 1:]
    tf = t[:, 1:]
    axes = (0, 2, 3, 4)
    dc = (2 * (p * tf).sum(axes) + 1e-5) / torch.clip(tf.sum(axes) + p.sum(axes) + 1e-5, 1e-8)
    return -dc.mean() + (-t * F.log_softmax(x, 1)).sum() / t.sum()


def write(name, x, t, loss_fn):
    golden_json.write(OUT, name, x, t, loss_fn)


def blobs(n, c, d, h, w):
    # Soft-edged blocks, so the boundary weight varies across slices as well as within them.
    t = torch.zeros(n, c, d, h, w, dtype=torch.float64)
    for i in range(n):
        for j in range(c):
            z0, y0, x0 = torch.randint(0, d, (1,)).item(), torch.randint(0, h, (1,)).item(), torch.randint(0, w, (1,)).item()
            t[i, j, z0:z0 + d // 2 + 1, y0:y0 + h // 2 + 1, x0:x0 + w // 2 + 1] = 1
    return t


os.makedirs(OUT, exist_ok=True)
assert torch.allclose(F.avg_pool3d(F.pad(torch.ones(1, 1, 9, 9, 9, dtype=torch.float64), (2,) * 6), 5, 1, 0),
                      F.avg_pool3d(torch.ones(1, 1, 9, 9, 9, dtype=torch.float64), 5, 1, 2))
for (n, c, d, h, w) in [(2, 1, 5, 9, 11), (1, 2, 7, 6, 5)]:
    x = torch.randn(n, c, d, h, w, dtype=torch.float64) * 2
    t = blobs(n, c, d, h, w)
    write(f"volume_structure_{n}x{c}x{d}x{h}x{w}", x, t, structure(31))
    write(f"volume_structure7_{n}x{c}x{d}x{h}x{w}", x, t, structure(7))
for (n, c, d, h, w) in [(2, 4, 6, 8, 7), (1, 3, 3, 5, 9)]:
    x = torch.randn(n, c, d, h, w, dtype=torch.float64) * 2
    y = torch.randint(0, c, (n, d, h, w))
    t = F.one_hot(y, c).permute(0, 4, 1, 2, 3).to(torch.float64)
    assert abs((-t * F.log_softmax(x, 1)).sum() / t.sum() - F.cross_entropy(x, y)) < 1e-12
    write(f"volume_nnunet_dc_ce_{n}x{c}x{d}x{h}x{w}", x, t, nnunet)
