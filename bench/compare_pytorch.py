#!/usr/bin/env python3
"""slope against PyTorch on the same MLP training steps, alternately, in one run.

For every (dtype, activation, threads) this runs bench_tensor's BM_Slope step and then the
same step in PyTorch (zero_grad, forward, MSE loss, backward, SGD step; MLP of `depth`
Linear layers of width x width, Xavier-uniform init), and repeats the pair `--rounds`
times (A B A B), keeping each side's best. It prints one table of slope/PyTorch ratios.
PyTorch comes from Debian's python3-torch; run with /usr/bin/python3:

    /usr/bin/python3 bench/compare_pytorch.py --build build/release     # or: make bench-compare
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CONFIGS = [(32, 32, 8), (256, 256, 8), (1024, 512, 4)]
ACTS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "Gelu"}


def slope_ms(build, dtype, act, threads, min_time):
    """ms per step of bench_tensor's BM_Slope for each config."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [os.path.join(build, "bench", "bench_tensor"),
             f"--benchmark_filter=BM_Slope<{dtype}, {ACTS[act]}>/config:[0-9]/threads:{threads}/",
             f"--benchmark_min_time={min_time}", f"--benchmark_out={out.name}",
             "--benchmark_out_format=json"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result = {}
        for b in json.load(open(out.name))["benchmarks"]:
            config = int(b["run_name"].split("config:")[1].split("/")[0])
            result[CONFIGS[config]] = b["real_time"] / 1e3  # microseconds -> ms
        return result


def torch_ms(torch, dtype, act, threads, min_time):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    kind = torch.float32 if dtype == "float" else torch.float64
    make_act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
                "gelu": torch.nn.GELU}[act]
    result = {}
    for batch, width, depth in CONFIGS:
        layers = []
        for i in range(depth):
            lin = torch.nn.Linear(width, width)
            torch.nn.init.xavier_uniform_(lin.weight)
            layers.append(lin)
            if i + 1 < depth:
                layers.append(make_act())
        model = torch.nn.Sequential(*layers).to(kind)
        x = torch.randn(batch, width, dtype=kind)
        y = torch.randn(batch, width, dtype=kind)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

        for _ in range(3):
            step()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < min_time or n < 3:
            step()
            n += 1
        result[(batch, width, depth)] = (time.perf_counter() - start) / n * 1e3
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--rounds", type=int, default=2, help="A B pairs per case")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--dtypes", default="float,double")
    parser.add_argument("--acts", default="relu,sigmoid,tanh,gelu")
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("compare_pytorch.py: PyTorch is not importable by " + sys.executable +
              "; install Debian's python3-torch libopenblas0-openmp and run /usr/bin/python3",
              file=sys.stderr)
        return 2
    print(f"slope ({args.build}) against torch {torch.__version__}, {args.rounds} round(s) of "
          f"A B, best of each side, ms per training step")
    print(f"{'dtype':<7} {'act':<8} {'thr':>3} {'shape':>11} {'slope ms':>10} {'torch ms':>10} "
          f"{'slope/torch':>12}")
    for dtype in args.dtypes.split(","):
        for act in args.acts.split(","):
            for threads in (int(t) for t in args.threads.split(",")):
                best_s, best_t = {}, {}
                for _ in range(args.rounds):
                    for k, v in slope_ms(args.build, dtype, act, threads, args.min_time).items():
                        best_s[k] = min(v, best_s.get(k, v))
                    for k, v in torch_ms(torch, dtype, act, threads, args.min_time).items():
                        best_t[k] = min(v, best_t.get(k, v))
                for shape in CONFIGS:
                    s, t = best_s[shape], best_t[shape]
                    print(f"{dtype:<7} {act:<8} {threads:>3} {'x'.join(map(str, shape)):>11} "
                          f"{s:>10.3f} {t:>10.3f} {s / t:>12.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
