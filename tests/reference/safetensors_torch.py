# For people who continue in PyTorch: safetensors files between slope and a nanoGPT-shaped
# PyTorch model, with nothing but the standard library and torch (Debian has no safetensors
# package for Python; the format is an 8-byte little-endian header length, a JSON header of
# name -> dtype, shape, data_offsets, then the raw little-endian bytes).
#
#   /usr/bin/python3 tests/reference/safetensors_torch.py load CKPT --n-head 4 [--activation gelu]
#       loads slope's checkpoint into the PyTorch model and prints its parameter count and
#       the loss on a fixed batch;
#   /usr/bin/python3 tests/reference/safetensors_torch.py reference OUT
#       writes tests/reference/gpt.py's model (its deterministic weights, F64), which
#       tests/test_safetensors.cpp loads into slope's and checks bit for bit.
import argparse
import json
import math
import struct
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}


def read_safetensors(path):
    """name -> tensor, as the file has them (1-D biases and LayerNorm, 2-D matrices)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype, width = DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    """tensors: name -> tensor (F32 or F64), written in the given order."""
    header, blobs, offset = {}, [], 0
    names = {torch.float32: "F32", torch.float64: "F64"}
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.numpy().tobytes()  # little-endian on the machines slope runs on
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class GPT(nn.Module):
    """nanoGPT's model.py in short: the names of its state_dict are slope's."""

    def __init__(self, vocab, block, layers, heads, embd, activation="gelu"):
        super().__init__()
        self.heads = heads
        act = {"gelu": nn.GELU(), "gelu_tanh": nn.GELU(approximate="tanh"), "relu": nn.ReLU(),
               "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "silu": nn.SiLU()}[activation]

        def block_():
            b = nn.Module()  # in nanoGPT's order: ln_1, attn, ln_2, mlp
            b.ln_1 = nn.LayerNorm(embd)
            b.attn = nn.Module()
            b.attn.c_attn, b.attn.c_proj = nn.Linear(embd, 3 * embd), nn.Linear(embd, embd)
            b.ln_2 = nn.LayerNorm(embd)
            b.mlp = nn.Module()
            b.mlp.c_fc, b.mlp.c_proj, b.mlp.act = nn.Linear(embd, 4 * embd), nn.Linear(4 * embd, embd), act
            return b

        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, embd), wpe=nn.Embedding(block, embd),
            h=nn.ModuleList([block_() for _ in range(layers)]), ln_f=nn.LayerNorm(embd)))
        self.register_buffer("mask", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

    def forward(self, idx):
        b, t = idx.size()
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for h in self.transformer.h:
            q, k, v = h.attn.c_attn(h.ln_1(x)).split(x.size(2), dim=2)
            q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = F.softmax(att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf")), dim=-1)
            x = x + h.attn.c_proj((att @ v).transpose(1, 2).contiguous().view(b, t, -1))
            x = x + h.mlp.c_proj(h.mlp.act(h.mlp.c_fc(h.ln_2(x))))
        return self.transformer.ln_f(x) @ self.transformer.wte.weight.t()  # the tied head


def load_slope(path, heads, activation="gelu"):
    tensors = read_safetensors(path)
    vocab, embd = tensors["transformer.wte.weight"].shape
    block = tensors["transformer.wpe.weight"].shape[0]
    layers = len({n.split(".")[2] for n in tensors if n.startswith("transformer.h.")})
    model = GPT(vocab, block, layers, heads, embd, activation).to(tensors["transformer.wte.weight"].dtype)
    model.load_state_dict(tensors, strict=False)  # the mask is the model's own
    missing = set(dict(model.named_parameters())) - set(tensors)
    if missing:
        sys.exit(f"{path}: missing {sorted(missing)}")
    return model


def main():
    p = argparse.ArgumentParser(description="safetensors between slope and PyTorch")
    sub = p.add_subparsers(dest="cmd", required=True)
    load = sub.add_parser("load")
    load.add_argument("path")
    load.add_argument("--n-head", type=int, required=True)
    load.add_argument("--activation", default="gelu")
    ref = sub.add_parser("reference")
    ref.add_argument("out")
    args = p.parse_args()
    if args.cmd == "load":
        model = load_slope(args.path, args.n_head, args.activation)
        vocab = model.transformer.wte.weight.shape[0]
        block = model.transformer.wpe.weight.shape[0]
        idx = torch.tensor([[(3 * b + 5 * t + 1) % vocab for t in range(block)] for b in range(2)])
        logits = model(idx)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), idx[:, 1:].reshape(-1))
        print(f"{args.path}: {sum(p.numel() for p in model.parameters())} parameters, "
              f"loss {loss.item():.6f} on a fixed batch")
    else:
        torch.set_default_dtype(torch.float64)
        model = GPT(7, 6, 2, 2, 8)
        with torch.no_grad():  # tests/reference/gpt.py's weights
            for k, (name, prm) in enumerate(model.named_parameters(), start=1):
                rows, cols = (prm.shape[0], prm.shape[1]) if prm.dim() == 2 else (1, prm.shape[0])
                f = torch.tensor([[math.sin(k + 0.7 * i + 1.3 * j) for j in range(cols)]
                                  for i in range(rows)])
                f = 1 + 0.1 * f if ".ln_" in name and name.endswith(".weight") else (
                    0.1 * f if name.endswith(".bias") else 0.3 * f)
                prm.copy_(f.view(prm.shape))
        write_safetensors(args.out, dict(model.named_parameters()))


if __name__ == "__main__":
    main()
