#!/usr/bin/env python3
"""slope's scalar engine against micrograd on micrograd's moons training step, in one run.

The step is demo.ipynb's: forward on all 100 points through an MLP 2-16-16-1 (ReLU), the
max-margin loss plus 1e-4 L2, zero_grad, backward, SGD update. micrograd's engine and nn
below are karpathy/micrograd's (MIT licence), transcribed unchanged in what they compute;
its step runs in this CPython with the garbage collector off (its best case), alternately
with bench_scalar's BM_MoonsStep (A B A B), and each side's best is kept.

    python3 bench/compare_micrograd.py --build build/release
"""
import argparse
import gc
import json
import math
import os
import random
import subprocess
import tempfile
import time


# --- micrograd/engine.py ------------------------------------------------------------
class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), 'ReLU')

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1


# --- micrograd/nn.py ----------------------------------------------------------------
class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self): return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self): return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self): return [p for layer in self.layers for p in layer.parameters()]


# --- demo.ipynb's step ----------------------------------------------------------------
def moons(n, noise, rng):
    """sklearn's make_moons shape: two interleaved half circles, labels -1 / 1."""
    xs, ys = [], []
    for i in range(n):
        outer = i < n // 2
        t = math.pi * (i if outer else i - n // 2) / (n // 2 - 1)
        x, y = (math.cos(t), math.sin(t)) if outer else (1 - math.cos(t), 0.5 - math.sin(t))
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(-1 if outer else 1)
    return xs, ys


def micrograd_step_ms(rounds_of, model, xs, ys):
    best = float("inf")
    for _ in range(rounds_of):
        t0 = time.perf_counter()
        inputs = [list(map(Value, x)) for x in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
        total = data_loss + reg_loss
        for p in model.parameters():
            p.grad = 0
        total.backward()
        for p in model.parameters():
            p.data -= 0.01 * p.grad
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def slope_step_ms(build):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([os.path.join(build, "bench", "bench_scalar"),
                        "--benchmark_filter=BM_MoonsStep", "--benchmark_min_time=0.5",
                        f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(out.name))["benchmarks"][0]["real_time"] / 1e3  # us -> ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--rounds", type=int, default=3, help="A B pairs")
    parser.add_argument("--steps", type=int, default=5, help="micrograd steps per round")
    args = parser.parse_args()
    rng = random.Random(1337)
    random.seed(1337)
    xs, ys = moons(100, 0.1, rng)
    model = MLP(2, [16, 16, 1])
    gc.disable()  # micrograd's best case: its graph is all reference cycles
    best_m = best_s = float("inf")
    for _ in range(args.rounds):
        best_m = min(best_m, micrograd_step_ms(args.steps, model, xs, ys))
        gc.collect()
        best_s = min(best_s, slope_step_ms(args.build))
    print(f"moons step (100 points, MLP 2-16-16-1), best of {args.rounds} round(s) of A B")
    print(f"{'engine':<34} {'ms per step':>12}")
    print(f"{'micrograd (CPython, gc off)':<34} {best_m:>12.2f}")
    print(f"{'slope scalar engine':<34} {best_s:>12.3f}")
    print(f"micrograd/slope: {best_m / best_s:.0f}x")


if __name__ == "__main__":
    main()
