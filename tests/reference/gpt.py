# The numbers tests/test_gpt.cpp compares slope's GPT against, from PyTorch (Debian's
# python3-torch 1.13): a nanoGPT-shaped model (nanoGPT's model.py, its non-flash attention
# path) in double precision with deterministic weights, its logits and loss on two
# sequences, every parameter's gradient, and five training steps with nanoGPT's recipe
# (AdamW with weight-decay groups, gradient clipping, warmup + cosine learning rate).
# Run: /usr/bin/python3 tests/reference/gpt.py > tests/reference/gpt.txt
# Output: one line per quantity, "name count v1 v2 ...", matrices row by row.
import math
import torch
import torch.nn as nn
from torch.nn import functional as F

torch.set_default_dtype(torch.float64)
V, BLOCK, LAYERS, HEADS, C = 7, 6, 2, 2, 8
B, T = 2, 5


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.register_buffer("bias", torch.tril(torch.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        q = q.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        v = v.view(b, t, HEADS, c // HEADS).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C), wpe=nn.Embedding(BLOCK, C),
            h=nn.ModuleList([Block() for _ in range(LAYERS)]), ln_f=nn.LayerNorm(C)))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied, as GPT-2

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


# Deterministic weights: the k-th named parameter (from 1) is s * sin(k + 0.7 i + 1.3 j) at
# (i, j) (a 1-D one as one row), s = 0.3, biases 0.1, LayerNorm weights 1 + 0.1 sin(...).
def fill(rows, cols, k):
    return torch.tensor([[math.sin(k + 0.7 * i + 1.3 * j) for j in range(cols)]
                         for i in range(rows)])


model = GPT()
with torch.no_grad():
    for k, (name, p) in enumerate(model.named_parameters(), start=1):
        rows, cols = (p.shape[0], p.shape[1]) if p.dim() == 2 else (1, p.shape[0])
        f = fill(rows, cols, k)
        if ".ln_" in name and name.endswith(".weight"):
            f = 1 + 0.1 * f
        elif name.endswith(".bias"):
            f = 0.1 * f
        else:
            f = 0.3 * f
        p.copy_(f.view(p.shape))

idx = torch.tensor([[(3 * b + 5 * t + 1) % V for t in range(T)] for b in range(B)])
targets = torch.tensor([[(2 * b + 3 * t + 2) % V for t in range(T)] for b in range(B)])


def put(name, values):
    values = [float(v) for v in values]
    print(name, len(values), " ".join("%.17g" % v for v in values))


put("ids", idx.flatten().tolist())
put("targets", targets.flatten().tolist())
logits, loss = model(idx, targets)
put("loss", [loss.item()])
put("logits", logits.reshape(B * T, V).flatten().tolist())
loss.backward()
for name, p in model.named_parameters():
    put("grad." + name, p.grad.flatten().tolist())

# nanoGPT's recipe, shortened: configure_optimizers' groups, get_lr, clip_grad_norm_.
WD, LR, MIN_LR, WARMUP, DECAY, CLIP = 0.1, 1e-2, 1e-3, 2, 4, 0.05
params = dict(model.named_parameters())
groups = [{"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": WD},
          {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0}]
opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.99))


def get_lr(it):
    if it < WARMUP:
        return LR * (it + 1) / (WARMUP + 1)
    if it > DECAY:
        return MIN_LR
    ratio = (it - WARMUP) / (DECAY - WARMUP)
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (LR - MIN_LR)


losses, norms, lrs = [], [], []
for it in range(6):
    lr = get_lr(it)
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad()
    _, l = model(idx, targets)
    l.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP).item())
    opt.step()
    losses.append(l.item())
    lrs.append(lr)
put("train.lr", lrs)
put("train.loss", losses)
put("train.grad_norm", norms)
for name, p in model.named_parameters():
    put("trained." + name, p.detach().flatten().tolist())
