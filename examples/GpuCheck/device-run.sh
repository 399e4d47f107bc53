#!/usr/bin/env bash
# One prepared GPU run of the structure loss: ILGPU fused (GpuCheck) against PyTorch eager and torch.compile.
#
#   examples/GpuCheck/device-run.sh prepare   # on a machine with the .NET SDK (no GPU needed)
#   examples/GpuCheck/device-run.sh run       # on the GPU machine (no .NET needed: the archive brings the runtime)
#
# prepare: publishes GpuCheck framework-dependent (Release) and packs it with this machine's .NET runtime into
#          examples/GpuCheck/dist/gpucheck.tar.xz (git-ignored; must stay under 64 MiB to be sent along).
# run:     unpacks the archive into a temporary folder, runs GpuCheck (value and gradient against the CPU backend,
#          ILGPU timings) and torch_structure_loss.py (PyTorch eager and torch.compile on the same inputs), and prints
#          one table. Results go to $OUT when it is set (the device machine sets it), else to examples/GpuCheck/results.
#          Every step has a time limit; the whole run is meant to finish in well under five minutes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="$here/dist"
archive="$dist/gpucheck.tar.xz"
limit_bytes=$((60 * 1024 * 1024)) # 64 MiB can be sent in all; leave room for the repository's own files

prepare() {
    command -v dotnet >/dev/null || { echo "prepare needs the .NET SDK (dotnet) on PATH" >&2; exit 1; }
    local stage="$dist/stage"
    rm -rf "$stage" "$archive"
    mkdir -p "$stage"
    echo "== publish GpuCheck (Release, framework-dependent)"
    dotnet publish "$here/GpuCheck.csproj" -c Release -o "$stage/app" -v q -nologo
    # The runtime the app was built for, from the SDK's own installation: the host, hostfxr and Microsoft.NETCore.App.
    local root version fxr
    root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
    version="$(sed -n 's/.*"version": *"\([0-9.]*\)".*/\1/p' "$stage/app/GpuCheck.runtimeconfig.json" | head -n 1)"
    version="$(ls "$root/shared/Microsoft.NETCore.App" | grep "^${version%.*}\." | sort -V | tail -n 1)"
    fxr="$(ls "$root/host/fxr" | sort -V | tail -n 1)"
    echo "== pack the .NET runtime $version (hostfxr $fxr) from $root"
    mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host/fxr"
    cp "$root/dotnet" "$stage/dotnet/"
    cp -r "$root/host/fxr/$fxr" "$stage/dotnet/host/fxr/"
    cp -r "$root/shared/Microsoft.NETCore.App/$version" "$stage/dotnet/shared/Microsoft.NETCore.App/"
    echo "== compress"
    XZ_OPT="-9 -T2" tar -C "$stage" -cJf "$archive" app dotnet
    rm -rf "$stage"
    local size
    size="$(stat -c %s "$archive")"
    echo "archive: $archive, $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB)"
    if [ "$size" -gt "$limit_bytes" ]; then
        echo "the archive is larger than $((limit_bytes / 1048576)) MiB: it cannot be sent with the run" >&2
        exit 1
    fi
}

run() {
    [ -f "$archive" ] || { echo "no $archive: run '$0 prepare' on a machine with the .NET SDK first" >&2; exit 1; }
    local out="${OUT:-$here/results}"
    local work
    work="$(mktemp -d "${TMPDIR:-/tmp}/gpucheck.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$out"
    local t0=$SECONDS
    echo "== unpack"
    tar -C "$work" -xJf "$archive"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found"
    export DOTNET_ROOT="$work/dotnet" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
    echo "== GpuCheck (ILGPU fused; CPU backend reference) [$((SECONDS - t0)) s]"
    local status=0
    timeout 100 "$work/dotnet/dotnet" "$work/app/GpuCheck.dll" --json "$out/ilgpu.json" --dump "$work/inputs" "$@" 2>&1 | tee "$out/gpucheck.txt" || status=$?
    [ -f "$out/ilgpu.json" ] || { echo "GpuCheck wrote no results (exit $status)" >&2; exit 1; }
    echo "== PyTorch eager and torch.compile [$((SECONDS - t0)) s]"
    local python="" candidate
    for candidate in python3 /usr/bin/python3; do # the first one that has PyTorch
        if "$candidate" -c "import torch, numpy" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
    [ -n "$python" ] || { echo "no python3 with torch and numpy found" >&2; exit 1; }
    timeout 180 "$python" "$here/torch_structure_loss.py" --ilgpu "$out/ilgpu.json" --inputs "$work/inputs" --out "$out/table.md" 2>&1 | tee "$out/torch.txt" || status=$?
    echo "== done in $((SECONDS - t0)) s (exit $status); results in $out"
    exit "$status"
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 prepare | run [GpuCheck options]" >&2; exit 2 ;;
esac
