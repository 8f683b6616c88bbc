#!/usr/bin/env python3
"""The tensor benchmark's training step in PyTorch, for a side-by-side comparison.

Runs the same step as bench/bench_tensor.cpp (zero_grad, forward, MSE loss, backward,
SGD step; MLP of `depth` Linear layers of width x width, Xavier-uniform init, float32)
and prints milliseconds per step. Where PyTorch is not installed it says so and exits 0.

    python3 bench/pytorch_step.py --threads 1
    bench/compare.sh            # this script and bench_tensor in one run, with ratios
"""
import argparse
import sys
import time

CONFIGS = [(32, 32, 8), (256, 256, 8), (1024, 512, 4)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--activation", default="relu", choices=["relu", "sigmoid"])
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per config")
    parser.add_argument("--slope-json", help="bench_tensor's --benchmark_out JSON, for ratios")
    args = parser.parse_args()
    slope_ms = {}
    if args.slope_json:
        import json
        with open(args.slope_json) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("run_type") == "iteration" or b.get("aggregate_name") == "median":
                    slope_ms[b["run_name"]] = b["real_time"] / 1e3  # microseconds -> ms
    try:
        import torch
    except ImportError:
        print("pytorch_step.py: PyTorch is not installed here; no comparison run")
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    act = torch.nn.ReLU if args.activation == "relu" else torch.nn.Sigmoid
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.activation}")
    for batch, width, depth in CONFIGS:
        layers = []
        for i in range(depth):
            lin = torch.nn.Linear(width, width)
            torch.nn.init.xavier_uniform_(lin.weight)
            layers.append(lin)
            if i + 1 < depth:
                layers.append(act())
        model = torch.nn.Sequential(*layers)
        x, y = torch.randn(batch, width), torch.randn(batch, width)
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()

        for _ in range(3):
            step()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.min_time:
            step()
            n += 1
        ms = (time.perf_counter() - start) / n * 1e3
        line = f"pytorch {args.activation} {batch}x{width}x{depth} t{args.threads}: {ms:.3f} ms/step"
        act = "Relu" if args.activation == "relu" else "Sigmoid"
        name = (f"BM_Slope<float, {act}>/config:{CONFIGS.index((batch, width, depth))}"
                f"/threads:{args.threads}/process_time/real_time")
        if name in slope_ms:
            line += f", slope {slope_ms[name]:.3f} ms, slope/pytorch {slope_ms[name] / ms:.3f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
