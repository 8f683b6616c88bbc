#!/usr/bin/env python3
"""Regenerates bench/RESULTS.md: the machine, the commands and every table, in one run.

    make bench-results        # or: /usr/bin/python3 bench/results.py --build build/release

Runs bench_gemm, bench_tensor (slope against its floor, interleaved repetitions; the
activation kernels; memory), bench_scalar, compare_micrograd.py and, when PyTorch is
importable, compare_pytorch.py, then writes the file whole (to a temporary file renamed
over it, so an interrupted run leaves the previous results).
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    print("results.py: " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def bench_json(exe, *flags):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        stdout = run([exe, *flags, f"--benchmark_out={out.name}", "--benchmark_out_format=json"])
        return stdout, json.load(open(out.name))["benchmarks"]


def table_after(stdout, header_start):
    """The text table a bench program prints after its console output."""
    i = stdout.find(header_start)
    return stdout[i:].strip() if i >= 0 else "(no table)"


def markdown(text_table, header):
    """A bench program's text table (a header line, then rows of a label of several words
    and len(header) - 1 numbers) as a Markdown table with the given header."""
    n_num = len(header) - 1
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for ln in text_table.splitlines()[1:]:
        cells = ln.split()
        if len(cells) > n_num:
            out.append("| " + " | ".join([" ".join(cells[:-n_num])] + cells[-n_num:]) + " |")
    return "\n".join(out)


def machine():
    cpu = "unknown CPU"
    for ln in open("/proc/cpuinfo"):
        if ln.startswith("model name"):
            cpu = ln.split(":", 1)[1].strip()
            break
    flags = open("/proc/cpuinfo").read()
    simd = ", ".join(f for f in ("avx2", "fma", "avx512f") if f" {f}" in flags)
    debian = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    gxx = run(["g++", "--version"]).splitlines()[0]

    def pkg(name):
        try:
            return run(["dpkg-query", "-W", "-f=${Version}", name])
        except (subprocess.CalledProcessError, FileNotFoundError):
            return "not installed"
    return (f"{os.cpu_count()} cores of {cpu} ({simd}), Debian {debian}, {gxx}, "
            f"Eigen {pkg('libeigen3-dev')}, OpenBLAS {pkg('libopenblas0-openmp')} (OpenMP build), "
            f"xsimd {pkg('libxsimd-dev')}, Google Benchmark {pkg('libbenchmark-dev')}, "
            f"python3-torch {pkg('python3-torch')}; {platform.python_implementation()} "
            f"{platform.python_version()} for the Python sides.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    b = lambda name: os.path.join(args.build, "bench", name)  # noqa: E731
    started = datetime.datetime.now()

    gemm_out, _ = bench_json(b("bench_gemm"), "--benchmark_min_time=0.2")
    kernels_line = next((ln for ln in gemm_out.splitlines() if ln.startswith("OpenBLAS kernels:")), "")
    gemm_kernels = kernels_line.removeprefix("OpenBLAS kernels: ") or "(bench_gemm did not say)"
    tensor_flags = [f"--benchmark_repetitions={args.repetitions}",
                    "--benchmark_enable_random_interleaving=true", "--benchmark_min_time=0.2"]
    tensor_out, _ = bench_json(b("bench_tensor"), "--benchmark_filter=BM_(Slope|Floor)",
                               *tensor_flags)
    _, kernels = bench_json(b("bench_tensor"), "--benchmark_filter=BM_Kernel|BM_MemoryFlat",
                            "--benchmark_min_time=0.2")
    _, split = bench_json(b("bench_tensor"), "--benchmark_filter=BM_ActivationThreads",
                          "--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
                          "--benchmark_min_time=0.2")
    _, scalar = bench_json(b("bench_scalar"), "--benchmark_repetitions=3",
                           "--benchmark_report_aggregates_only=true")
    micrograd = run([sys.executable, os.path.join(HERE, "compare_micrograd.py"), "--build", args.build])
    try:
        import torch  # noqa: F401
        pytorch = run([sys.executable, os.path.join(HERE, "compare_pytorch.py"), "--build", args.build])
    except ImportError:
        pytorch = None

    ns = {}
    memory = {}
    for k in kernels:
        name = k["name"]
        if name.startswith("BM_MemoryFlat"):
            memory = {c: k[c] for c in ("heap_step_1", "heap_step_2", "heap_step_10000")}
        elif "items_per_second" in k:
            kind, _, act = name.partition("/")
            ns.setdefault(act, {})[kind] = 1e9 / k["items_per_second"]
    copy = ns.get("", {}).get("BM_KernelCopy", float("nan"))
    kernel_rows = ["| activation | SIMD ns/elem | scalar ns/elem | scalar/SIMD | SIMD/copy |",
                   "|---|---|---|---|---|"]
    for act, v in ns.items():
        if not act:
            continue
        s, sc = v.get("BM_Kernel", float("nan")), v.get("BM_KernelScalar", float("nan"))
        kernel_rows.append(f"| {act} | {s:.2f} | {sc:.2f} | {sc / s:.1f} | {s / copy:.2f} |")
    kernel_rows.append(f"| (a copy of the same bytes) | {copy:.2f} | | | 1.00 |")

    split_ms = {}
    for k in split:
        if "threads:" in k["name"] and k.get("run_type") != "aggregate":
            t = k["name"].split("threads:")[1].split("/")[0]
            split_ms[t] = min(split_ms.get(t, float("inf")), k["real_time"] / 1000)
    split_line = (f"gelu forward + backward of a 1024 x 512 float tensor (`BM_ActivationThreads`, "
                  f"fastest of 5 interleaved repetitions): {split_ms.get('1', float('nan')):.2f} ms "
                  f"on one thread, {split_ms.get('2', float('nan')):.2f} ms on two "
                  f"({split_ms.get('1', float('nan')) / split_ms.get('2', float('nan')):.2f}x); "
                  f"the elementwise passes split by `slope::parallel_for` from 32K elements.")

    scalar_rows = ["| workload | median µs | nodes/s |", "|---|---|---|"]
    for s in scalar:
        if s.get("aggregate_name") == "median":
            rate = s.get("nodes/s")
            scalar_rows.append(f"| {s['run_name']} | {s['real_time']:.1f} | "
                               f"{rate / 1e6:.0f} M |" if rate else
                               f"| {s['run_name']} | {s['real_time']:.1f} | |")

    elapsed = (datetime.datetime.now() - started).total_seconds() / 60
    md = f"""# Benchmark results

Generated by `make bench-results` (`bench/results.py`) on {started:%Y-%m-%d} in {elapsed:.0f} min.
Do not edit by hand: rerun it.

Machine: {machine()}

A shared VM: timings are noisy, so every comparison below is a ratio taken within one
run, with the two sides alternating.

```sh
make bench            # bench_scalar, bench_gemm, bench_tensor with interleaved repetitions
make bench-compare    # slope against PyTorch, A B A B (needs Debian's python3-torch)
make bench-results    # all of it, written to this file
```

## Which GEMM (`bench_gemm`)

C = A·Bᵀ (the Linear forward), square n, one thread, GFLOP/s. slope routes products of
m·n·k ≥ 48³ to OpenBLAS and keeps smaller ones on Eigen's kernels (`slope::kBlasMinFlops`
in `engine/include/slope/gemm.hpp`), as long as OpenBLAS runs kernels as wide as Eigen's:
on a CPU model it does not know, OpenBLAS runs its Prescott (SSE3) kernels, and a build for
AVX2 then keeps every product on Eigen. OpenBLAS kernels on this machine: {gemm_kernels}.
OpenBLAS rather than oneDNN: oneDNN has no double GEMM (`dnnl_sgemm` only), OpenBLAS is
what Debian's PyTorch runs on (so slope/PyTorch compares the same kernels), and on its
kernels for the CPU (AMD EPYC, Zen, when this was chosen) it was as fast or faster at the
MLP's sizes, 256 and 512, with oneDNN leading at 24-128.

{markdown(table_after(gemm_out, "C = A"), ["type, n", "Eigen", "OpenBLAS", "oneDNN", "OpenBLAS/Eigen", "oneDNN/Eigen"])}

## Tensor engine against its floor (`bench_tensor`)

One step = zero_grad, forward, MSE loss, backward, SGD step of an MLP of `depth` Linear
layers of width x width on a batch of `batch` rows. The floor is the same step on the same
products (`slope::gemm`) and the same activation kernels with preallocated buffers and no
graph. Fastest of {args.repetitions} interleaved repetitions. `x relu` is the step over
relu's step of the same shape; allocations are heap allocations per step after warm-up.

{markdown(table_after(tensor_out, "step (type"), ["type, activation, batch x width x depth, threads", "slope ms", "floor ms", "slope/floor", "x relu", "slope allocs/step", "floor allocs/step"])}

Memory over 10,000 steps of the 32x32x8 relu step (`BM_MemoryFlat`, heap in use after
steps 1, 2 and 10,000): {memory.get('heap_step_1', 0):,.0f}, {memory.get('heap_step_2', 0):,.0f} and
{memory.get('heap_step_10000', 0):,.0f} bytes.

## Activation kernels (`bench_tensor`, `BM_Kernel`)

Forward (y = f(x)) plus backward (dx = g·f'(x)) over 1M floats, ns per element: the SIMD
kernels from the catalogue's one definition (xsimd), the scalar definitions element by
element, and a copy of the same bytes.

{chr(10).join(kernel_rows)}

{split_line}

## Scalar engine (`bench_scalar`)

{chr(10).join(scalar_rows)}

Against micrograd on its own moons step (`bench/compare_micrograd.py`, alternating):

```
{micrograd.strip()}
```

## Against PyTorch (`make bench-compare`)

"""
    if pytorch:
        md += f"```\n{pytorch.strip()}\n```\n"
    else:
        md += "PyTorch was not importable by this interpreter; run with /usr/bin/python3 " \
              "after `apt-get install python3-torch libopenblas0-openmp`.\n"
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(md)
    os.replace(tmp, args.out)
    print(f"results.py: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
