"""The structure loss (LossDsl.Losses.StructureLoss) in PyTorch, eager and torch.compile, timed like GpuCheck.

Forward + backward of the loss (summed over the side outputs for deep supervision), medians of timed runs after
warm-up, every run synchronised. Reads the inputs GpuCheck dumped (--inputs DIR, raw float32) so that both compute the
loss of the same numbers, and GpuCheck's results (--ilgpu FILE) to print one table: ILGPU fused, PyTorch eager,
torch.compile. Without CUDA it runs on the CPU (and torch.compile only where this PyTorch has it), to test the script.

    python3 torch_structure_loss.py --inputs DIR --ilgpu ilgpu.json [--runs 50] [--warmup 5] [--out table.md]
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def structure_loss(pred, mask):
    """Boundary-weighted BCE plus weighted IoU per image, mean over the batch (the weighted form LossDsl declares)."""
    weit = 1 + 5 * torch.abs(F.avg_pool2d(mask, kernel_size=31, stride=1, padding=15) - mask)
    bce = F.binary_cross_entropy_with_logits(pred, mask, reduction="none")
    wbce = (weit * bce).sum(dim=(2, 3)) / weit.sum(dim=(2, 3))
    p = torch.sigmoid(pred)
    inter = (p * mask * weit).sum(dim=(2, 3))
    union = ((p + mask) * weit).sum(dim=(2, 3))
    wiou = 1 - (inter + 1) / (union - inter + 1)
    return (wbce + wiou).mean()


def deep_supervision(preds, mask):
    """PraNet's training step: the loss of every side output against the same mask, summed."""
    total = structure_loss(preds[0], mask)
    for p in preds[1:]:
        total = total + structure_loss(p, mask)
    return total


def median_ms(step, runs, warmup, sync):
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def load_case(case, inputs, device):
    shape = (case["n"], case["c"], case["h"], case["w"])
    name = case["name"]

    def read(path):
        return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape)).to(device)

    if inputs and os.path.exists(os.path.join(inputs, name + ".mask.f32")):
        mask = read(os.path.join(inputs, name + ".mask.f32"))
        preds = [read(os.path.join(inputs, f"{name}.pred{o}.f32")) for o in range(case["outputs"])]
    else:  # no dump: random inputs of the same shape (the timings hold, the loss values are not comparable)
        g = torch.Generator().manual_seed(42)
        mask = (torch.rand(shape, generator=g) > 0.5).float().to(device)
        preds = [(torch.randn(shape, generator=g) * 2).to(device) for _ in range(case["outputs"])]
    return [p.requires_grad_(True) for p in preds], mask


def time_variant(fn, preds, mask, runs, warmup, sync):
    def step():
        for p in preds:
            p.grad = None
        loss = fn(preds, mask)
        loss.backward()
        return loss

    t0 = time.perf_counter()
    loss = step()  # the first call: for torch.compile, the compilation
    sync()
    first_ms = (time.perf_counter() - t0) * 1e3
    ms = median_ms(step, runs, warmup, sync)
    return float(loss.detach().double().cpu()), ms, first_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ilgpu", required=True, help="GpuCheck's --json results")
    ap.add_argument("--inputs", help="GpuCheck's --dump directory")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--out", help="also write the table (Markdown) here")
    args = ap.parse_args()

    with open(args.ilgpu) as f:
        ilgpu = json.load(f)
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    runs = args.runs or (50 if cuda else 3)
    warmup = args.warmup or (5 if cuda else 1)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    gpu = torch.cuda.get_device_name(0) if cuda else "no CUDA device: PyTorch on the CPU"
    print(f"PyTorch {torch.__version__} on {gpu}; ILGPU results from {ilgpu['device']} ({ilgpu['accelerator']})")
    if not cuda:
        print("No CUDA in PyTorch: timing on the CPU to test this script; the table is not a GPU comparison.")
    if cuda != bool(ilgpu.get("cuda")):
        print("Note: PyTorch and GpuCheck ran on different kinds of device.")

    compiled = None
    compile_note = ""
    if hasattr(torch, "compile"):
        compiled = torch.compile(deep_supervision)
    else:
        compile_note = f"torch.compile is not in PyTorch {torch.__version__}"
        print(compile_note)

    rows = []
    for case in ilgpu["cases"]:
        preds, mask = load_case(case, args.inputs, device)
        eager_loss, eager_ms, _ = time_variant(deep_supervision, preds, mask, runs, warmup, sync)
        comp_loss = comp_ms = comp_first = None
        if compiled is not None:
            try:
                comp_loss, comp_ms, comp_first = time_variant(compiled, preds, mask, runs, warmup, sync)
            except Exception as e:  # report and go on: the eager column still counts
                compile_note = f"torch.compile failed: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
                print(compile_note)
                compiled = None
        ref = case["loss_cpu"]
        rel = abs(eager_loss - ref) / max(abs(ref), 1e-12)
        rows.append((case, eager_loss, eager_ms, comp_loss, comp_ms, comp_first, rel))
        print(f"{case['name']}: eager {eager_ms:.3f} ms (loss {eager_loss:.9g}, vs CPU backend {rel:.1e})"
              + (f", torch.compile {comp_ms:.3f} ms (first call {comp_first / 1e3:.1f} s, loss {comp_loss:.9g})" if comp_ms else ""))
        del preds, mask
        if cuda:
            torch.cuda.empty_cache()

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}"

    def ratio(a, b):
        return "n/a" if a is None or b is None or b <= 0 else f"{a / b:.1f}×"

    lines = [
        f"{datetime.date.today().isoformat()}, {gpu}; PyTorch {torch.__version__}; ILGPU on {ilgpu['device']}.",
        "Forward + backward, ms, median of timed runs after warm-up, synchronised; deep supervision sums the loss over the outputs.",
        "",
        "| case | ILGPU fused | PyTorch eager | torch.compile | eager / ILGPU | compile / ILGPU | ILGPU vs CPU backend: loss, grad | eager loss vs CPU backend |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for case, eager_loss, eager_ms, comp_loss, comp_ms, comp_first, rel in rows:
        shape = f"{case['n']}×{case['c']}×{case['h']}×{case['w']}" + (f", {case['outputs']} outputs" if case["outputs"] > 1 else "")
        lines.append(
            f"| {shape} | {fmt(case['ilgpu_ms'])} | {fmt(eager_ms)} | {fmt(comp_ms)} | {ratio(eager_ms, case['ilgpu_ms'])} | "
            f"{ratio(comp_ms, case['ilgpu_ms'])} | {case['loss_rel_err']:.1e}, {case['grad_err']:.1e}{'' if case['ok'] else ' MISMATCH'} | {rel:.1e} |")
    if compile_note:
        lines.append("")
        lines.append(compile_note)
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    ok = all(c["ok"] for c in ilgpu["cases"]) and all(r[6] <= 1e-3 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
