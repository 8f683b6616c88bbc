# The numbers tests/test_modules.cpp compares slope against, from PyTorch (Debian's
# python3-torch 1.13): a pre-LN residual feed-forward block, x + proj(gelu(fc(ln(x)))),
# in double precision, with deterministic weights, trained 3 steps with Adam.
# Run: /usr/bin/python3 tests/reference/ffn_block.py
import math
import torch

torch.set_default_dtype(torch.float64)
B, C, H = 3, 4, 8


def fill(rows, cols, k):
    return torch.tensor([[math.sin(k + 0.7 * i + 1.3 * j) for j in range(cols)]
                         for i in range(rows)])


x = fill(B, C, 1.0)
target = fill(B, C, 2.0)
ln = torch.nn.LayerNorm(C)
fc = torch.nn.Linear(C, H)
proj = torch.nn.Linear(H, C)
with torch.no_grad():
    ln.weight.copy_(1 + 0.1 * fill(1, C, 3.0)[0])
    ln.bias.copy_(0.1 * fill(1, C, 4.0)[0])
    fc.weight.copy_(0.5 * fill(H, C, 5.0))
    fc.bias.copy_(0.1 * fill(1, H, 6.0)[0])
    proj.weight.copy_(0.5 * fill(C, H, 7.0))
    proj.bias.copy_(0.1 * fill(1, C, 8.0)[0])


def block(x):
    return x + proj(torch.nn.functional.gelu(fc(ln(x))))


xg = x.clone().requires_grad_(True)
loss = torch.nn.functional.mse_loss(block(xg), target)
loss.backward()
print("loss %.17g" % loss.item())
print("dx", ", ".join("%.17g" % v for v in xg.grad.flatten().tolist()))
print("dln_weight", ", ".join("%.17g" % v for v in ln.weight.grad.tolist()))
print("dln_bias", ", ".join("%.17g" % v for v in ln.bias.grad.tolist()))
print("dfc_weight[0]", ", ".join("%.17g" % v for v in fc.weight.grad[0].tolist()))
print("dproj_bias", ", ".join("%.17g" % v for v in proj.bias.grad.tolist()))

params = list(ln.parameters()) + list(fc.parameters()) + list(proj.parameters())
opt = torch.optim.Adam(params, lr=0.01)
losses = []
for step in range(3):
    opt.zero_grad()
    l = torch.nn.functional.mse_loss(block(x), target)
    l.backward()
    opt.step()
    losses.append(l.item())
losses.append(torch.nn.functional.mse_loss(block(x), target).item())
print("adam_losses", ", ".join("%.17g" % v for v in losses))
