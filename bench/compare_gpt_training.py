#!/usr/bin/env python3
"""slope-gpt's training against PyTorch's on the same recipe and text, alternately.

For each activation (default gelu and relu) and seed, this runs slope-gpt for one run
(--threads 1) and then the same training in PyTorch: nanoGPT's model (bench/compare_gpt.py's),
the fortunes text (or --text) tokenized by its sorted unique characters, the last 10% held
out, nanoGPT's recipe (AdamW betas (0.9, 0.99), weight decay 0.1 on the matrices, lr 1e-3
with 100 warmup steps and a cosine to 1e-4, clipping at 1.0, batch 12 of 64 characters),
on one thread, evaluating every 100 steps on 20 batches of each split as slope-gpt does.
Each side's final validation loss (mean over 20 batches) and wall time (slope: the whole
process, its files and plots included; PyTorch: from tokenizing the text to the last
evaluation) are printed, and per activation the mean and spread over the seeds. Each side's own evaluation
draws its own validation windows, and this text's windows differ by a few hundredths of a
nat, so both final models are also scored on the same 100 validation batches ("common"):
slope's from its checkpoint, through tests/reference/safetensors_torch.py.

With --whole, it times the default run as a whole instead: `slope-gpt` as a user types it
(six activations, one seed, its runs two at a time on a two-core machine) against the same
six runs in PyTorch, as many at a time as there are cores (one process of one thread each),
alternately for --rounds rounds. Run with Debian's Python:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 bench/compare_gpt_training.py --build build/release --seeds 3
"""
import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import compare_gpt  # noqa: E402  (the PyTorch model)
import safetensors_torch  # noqa: E402  (slope's checkpoints in PyTorch)


def common_loss(torch, model, val, vocab, batches=100):
    """Mean loss on the same `batches` validation batches (12 x 64) for every model: each
    side's own evaluation draws its own windows, and windows of this text differ by a few
    hundredths of a nat."""
    F = torch.nn.functional
    total = 0.0
    with torch.no_grad():
        for k in range(batches):
            g = torch.Generator().manual_seed(100 + k)
            ix = torch.randint(len(val) - 64, (12,), generator=g)
            x = torch.stack([val[i:i + 64] for i in ix])
            y = torch.stack([val[i + 1:i + 65] for i in ix])
            total += F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1)).item()
    return total / batches

FORTUNES = "/usr/share/games/fortunes"


def corpus(path):
    if path:
        return open(path, encoding="utf-8").read()
    files = sorted(f for f in os.listdir(FORTUNES)
                   if "." not in f and os.path.isfile(os.path.join(FORTUNES, f)))
    return "".join(open(os.path.join(FORTUNES, f), encoding="utf-8").read() for f in files)


def slope_run(torch, build, act, seed, steps, text, val, vocab):
    with tempfile.TemporaryDirectory() as out:
        args = [os.path.join(build, "demos", "slope-gpt"), "--act", act, "--seed", str(seed),
                "--seeds", "1", "--threads", "1", "--steps", str(steps), "--out", out]
        if text:
            args += ["--text", text]
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        rows = [r for r in csv.DictReader(open(os.path.join(out, "curves.csv")))
                if r["split"] == "val"]
        model = safetensors_torch.load_slope(
            os.path.join(out, f"gpt_{act}_seed{seed}.safetensors"), 4, act).float()
        return float(rows[-1]["loss"]), seconds, common_loss(torch, model, val, vocab)


def torch_run(torch, text, act, seed, steps, every=100, eval_batches=20, common=True):
    """The same run as slope-gpt's: tokenize, train, evaluate every `every` steps on
    `eval_batches` batches of each split; returns the last validation loss, the seconds and,
    with `common`, the loss on common_loss's batches (after the timing)."""
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(len(data) * 0.9)
    train, val = data[:n], data[n:]
    model = compare_gpt.torch_model(torch, act, len(chars))
    with torch.no_grad():  # nanoGPT's init
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * len(model.h)) if name.endswith("c_proj.weight") else 0.02
                p.normal_(0.0, std)
            elif name.endswith("bias"):
                p.zero_()
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))

    def batch(split, gen):
        d = train if split == "train" else val
        ix = torch.randint(len(d) - 64, (12,), generator=gen)
        return torch.stack([d[i:i + 64] for i in ix]), torch.stack([d[i + 1:i + 65] for i in ix])

    def lr_at(it, warmup=100, lr=1e-3, min_lr=1e-4):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        if it > steps:
            return min_lr
        ratio = (it - warmup) / max(1, steps - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

    gen = torch.Generator().manual_seed(seed + 1)

    def evaluate(it):
        with torch.no_grad():
            losses = {}
            for split in ("train", "val"):
                g = torch.Generator().manual_seed(1000003 * (it + 1) + (split == "val"))
                losses[split] = sum(model(*batch(split, g)).item()
                                    for _ in range(eval_batches)) / eval_batches
            return losses["val"]

    val_loss = float("nan")
    for it in range(steps + 1):
        if it % every == 0 or it == steps:
            val_loss = evaluate(it)
        if it == steps:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x, y = batch("train", gen)
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    seconds = time.perf_counter() - t0

    class Logits(torch.nn.Module):  # the model as common_loss calls it: ids -> logits
        def forward(self, x):
            h = model.wte(x) + model.wpe(torch.arange(x.size(1)))
            for block in model.h:
                h = block(h)
            return model.ln_f(h) @ model.wte.weight.t()

    return val_loss, seconds, common_loss(torch, Logits(), val, len(chars)) if common else None


WORKER_TEXT = None  # the corpus, in each --whole worker process


def torch_worker_init(text):
    global WORKER_TEXT
    WORKER_TEXT = text
    import torch  # noqa: F401  (loaded before the clock starts)


def torch_worker(job):
    """One PyTorch run in a worker process of one thread (for --whole)."""
    import torch
    act, seed, steps = job
    if act is None:  # warm-up
        return None
    loss, seconds, _ = torch_run(torch, WORKER_TEXT, act, seed, steps, common=False)
    return act, loss, seconds


def slope_default_run(args):
    """slope-gpt as a user types it; returns its seconds and {activation: (seed, final val)}."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [os.path.join(args.build, "demos", "slope-gpt"), "--steps", str(args.steps),
               "--out", out] + (["--text", args.text] if args.text else [])
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        final = {}
        for row in csv.DictReader(open(os.path.join(out, "curves.csv"))):
            if row["split"] == "val" and int(row["step"]) >= final.get(row["activation"], (0, -1, 0))[1]:
                final[row["activation"]] = (int(row["seed"]), int(row["step"]), float(row["loss"]))
    return seconds, {a: (seed, loss) for a, (seed, _, loss) in final.items()}


def whole(args, text):
    """The default run as a whole, A B then B A, ...: see the module's docstring."""
    import multiprocessing
    cores = len(os.sched_getaffinity(0))
    print(f"the default run ({args.steps} steps), {cores} cores; slope-gpt's own defaults "
          f"(activations, seed, --threads), PyTorch {cores} runs at a time, one thread each")
    ctx = multiprocessing.get_context("spawn")
    ratios, runs = [], None
    with ctx.Pool(cores, initializer=torch_worker_init, initargs=(text,)) as pool:
        pool.map(torch_worker, [(None, 0, 0)] * cores)  # every worker up, torch loaded

        def torch_side():
            t0 = time.perf_counter()
            out = pool.map(torch_worker, [(a, seed, args.steps) for a, (seed, _) in runs.items()])
            return time.perf_counter() - t0, out

        for r in range(args.rounds):
            if r % 2 == 0:  # A B
                s_time, runs = slope_default_run(args)
                t_time, t_runs = torch_side()
            else:  # B A
                t_time, t_runs = torch_side()
                s_time, runs = slope_default_run(args)
            ratios.append(s_time / t_time)
            print(f"round {r + 1}: slope-gpt {s_time:.1f} s, PyTorch {t_time:.1f} s, "
                  f"slope/torch {s_time / t_time:.2f}", flush=True)
            for a, loss, seconds in t_runs:
                print(f"  {a:<10} seed {runs[a][0]}: slope val {runs[a][1]:.4f}, torch val "
                      f"{loss:.4f} ({seconds:.1f} s)", flush=True)
    print(f"slope/torch over {args.rounds} round(s): {', '.join(f'{x:.2f}' for x in ratios)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build/release")
    p.add_argument("--act", help="activations, default gelu,relu (not with --whole)")
    p.add_argument("--seeds", type=int, help="seeds per activation, default 3 (not with --whole)")
    p.add_argument("--first-seed", type=int,
                   help="seeds --first-seed, --first-seed + 1, ... (default 1337, slope-gpt's; "
                        "not with --whole)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--text", default="")
    p.add_argument("--whole", action="store_true", help="time the default run as a whole")
    p.add_argument("--rounds", type=int, default=1, help="with --whole: A B rounds")
    args = p.parse_args()
    if args.whole:
        if args.act is not None or args.seeds is not None or args.first_seed is not None:
            p.error("--whole runs slope-gpt's defaults: --act, --seeds and --first-seed do not apply")
        if args.rounds < 1:
            p.error("--rounds must be at least 1")
        return whole(args, corpus(args.text))
    args.act, args.seeds = args.act or "gelu,relu", args.seeds or 3
    args.first_seed = 1337 if args.first_seed is None else args.first_seed
    if args.seeds < 1:
        p.error("--seeds must be at least 1")
    text = corpus(args.text)
    import torch
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    val = data[int(len(data) * 0.9):]
    print("val: each side's own evaluation; common: both on the same 100 validation batches")
    print(f"{'activation':<10} {'seed':>5} {'slope val':>10} {'common':>8} {'slope s':>8} "
          f"{'torch val':>10} {'common':>8} {'torch s':>8}")
    total_slope, total_torch = 0.0, 0.0
    for act in args.act.split(","):
        s_loss, t_loss, s_time, t_time, s_common, t_common = [], [], [], [], [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):  # A B A B
            sl, st, sc = slope_run(torch, args.build, act, seed, args.steps, args.text, val,
                                   len(chars))
            tl, tt, tc = torch_run(torch, text, act, seed, args.steps)
            s_loss.append(sl), s_time.append(st), t_loss.append(tl), t_time.append(tt)
            s_common.append(sc), t_common.append(tc)
            total_slope, total_torch = total_slope + st, total_torch + tt
            print(f"{act:<10} {seed:>5} {sl:>10.4f} {sc:>8.4f} {st:>8.1f} {tl:>10.4f} "
                  f"{tc:>8.4f} {tt:>8.1f}", flush=True)
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(f"{act:<10} {'mean':>5} {statistics.mean(s_loss):>10.4f} "
              f"{statistics.mean(s_common):>8.4f} {statistics.mean(s_time):>8.1f} "
              f"{statistics.mean(t_loss):>10.4f} {statistics.mean(t_common):>8.4f} "
              f"{statistics.mean(t_time):>8.1f}   common std slope {sd(s_common):.4f}, torch "
              f"{sd(t_common):.4f}; time slope/torch "
              f"{statistics.mean(s_time) / statistics.mean(t_time):.2f}")
    print(f"every run: slope {total_slope:.1f} s, torch {total_torch:.1f} s, slope/torch "
          f"{total_slope / total_torch:.2f}")


if __name__ == "__main__":
    main()
