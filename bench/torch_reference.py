# Reference for bench/train-step-vs-torch.ts: the same ResNet as Paddock's `resnet-small`
# (libs/learner/src/arch/resnet.ts) trained one AdamW step at a time in PyTorch on the CPU.
# Run with Debian's system python3 and python3-torch (never needed by tests or the product).
# Usage: /usr/bin/python3 bench/torch_reference.py SIZE BATCH STEPS THREADS  -> one JSON line
import json, sys, time
import torch
import torch.nn as nn

size, batch, steps, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)


def conv_bn(cin, cout, k, stride, relu):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.branch = nn.Sequential(conv_bn(cin, cout, 3, stride, True), conv_bn(cout, cout, 3, 1, False))
        short = []
        if stride != 1:
            short.append(nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False))
        if stride != 1 or cin != cout:
            short.append(conv_bn(cin, cout, 1, 1, False))
        self.shortcut = nn.Sequential(*short)

    def forward(self, x):
        return torch.relu(self.branch(x) + self.shortcut(x))


widths, stem = [32, 64, 128, 256], 24
layers = [conv_bn(3, stem, 3, 2, True), conv_bn(stem, stem, 3, 1, True), nn.MaxPool2d(3, 2, 1)]
cin = stem
for i, w in enumerate(widths):
    layers.append(Block(cin, w, 1 if i == 0 else 2))
    cin = w
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 4))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
x = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float32)).reshape(batch, 3, size, size)
y = torch.arange(batch) % 4
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


step()
t = time.perf_counter()
for _ in range(steps):
    step()
train_ms = (time.perf_counter() - t) * 1000 / steps
model.eval()
with torch.no_grad():
    model(x)
    t = time.perf_counter()
    for _ in range(steps):
        model(x)
    forward_ms = (time.perf_counter() - t) * 1000 / steps
print(json.dumps({"msPerStep": round(train_ms, 1), "forwardMs": round(forward_ms, 1), "torch": torch.__version__, "threads": threads}))
