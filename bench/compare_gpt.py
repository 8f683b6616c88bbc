#!/usr/bin/env python3
"""slope's GPT training step against PyTorch's, alternately (A B A B), in one run.

The step is nanoGPT's CPU "baby GPT" (4 layers, 4 heads, n_embd 128, block 64, batch 12,
vocabulary 65, tanh-GELU; forward, cross-entropy, backward, clip_grad_norm_ at 1.0, AdamW
with nanoGPT's weight-decay groups), float, on 1 and 2 threads. slope's side is
bench/bench_gpt (Google Benchmark); PyTorch's is the same model written as nanoGPT's
model.py (its non-flash attention: PyTorch 1.13 has no scaled_dot_product_attention) in
Debian's python3-torch. Each side keeps its best of --rounds; the table gives both and the
ratio. Run with Debian's Python, OpenBLAS's OpenMP build first on the library path:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 bench/compare_gpt.py --build build/release
"""
import argparse
import json
import math
import os
import subprocess
import tempfile
import time

V, BLOCK, LAYERS, HEADS, C, BATCH = 65, 64, 4, 4, 128, 12


def slope_ms(build, threads, min_time):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [os.path.join(build, "bench", "bench_gpt"),
             f"--benchmark_filter=BM_GptStep/threads:{threads}/relu:0",
             f"--benchmark_min_time={min_time}", f"--benchmark_out={out.name}",
             "--benchmark_out_format=json"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return json.load(open(out.name))["benchmarks"][0]["real_time"]  # ms


def torch_model(torch, activation="gelu_tanh", vocab=V):
    """nanoGPT's model; `activation` is the MLP's, between c_fc and c_proj."""
    nn, F = torch.nn, torch.nn.functional
    act = {"gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "relu": F.relu,
           "silu": F.silu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.register_buffer("bias", torch.tril(torch.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

        def forward(self, x):
            b, t, c = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (z.view(b, t, HEADS, c // HEADS).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf")), dim=-1)
            return self.c_proj((att @ v).transpose(1, 2).contiguous().view(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(C), Attention(), nn.LayerNorm(C)
            self.c_fc, self.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(act(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, C), nn.Embedding(BLOCK, C)
            self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(C)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
            for block in self.h:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.t()  # the tied head
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    return GPT()


def torch_ms(torch, threads, min_time):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch_model(torch)
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))
    idx = torch.randint(V, (BATCH, BLOCK))
    targets = torch.randint(V, (BATCH, BLOCK))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(idx, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    for _ in range(3):
        step()
    best, spent = float("inf"), 0.0
    while spent < min_time:
        t0 = time.perf_counter()
        step()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=3.0)
    args = parser.parse_args()
    import torch
    try:  # the BLAS torch loaded (libblas.so.3): OpenBLAS names its kernels
        import ctypes
        blas = ctypes.CDLL("libblas.so.3")
        blas.openblas_get_corename.restype = ctypes.c_char_p
        core = blas.openblas_get_corename().decode()
    except (OSError, AttributeError):
        core = "not OpenBLAS"
    print(f"PyTorch {torch.__version__} on OpenBLAS's {core} kernels; "
          f"slope: {args.build}/bench/bench_gpt")
    print(f"{'threads':>7} {'slope ms':>9} {'PyTorch ms':>11} {'slope/PyTorch':>14}")
    for threads in (1, 2):
        s, t = float("inf"), float("inf")
        for _ in range(args.rounds):  # A B A B
            s = min(s, slope_ms(args.build, threads, args.min_time))
            t = min(t, torch_ms(torch, threads, args.min_time))
        print(f"{threads:>7} {s:>9.1f} {t:>11.1f} {s / t:>14.2f}")


if __name__ == "__main__":
    main()
