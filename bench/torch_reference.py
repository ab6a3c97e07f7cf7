# The PyTorch side of bench/train-step.ts: the same ResNet as Paddock's resnet() builds
# (libs/learner/src/arch/resnet.ts) from the same config, written by hand in torch.nn (no
# torchvision), trained with the same loss, AdamW settings, batch, warm-up and statistic (see
# bench/workload.ts). Run with Debian's /usr/bin/python3 and python3-torch; never needed by tests.
# Usage: /usr/bin/python3 bench/torch_reference.py CONFIG_JSON SIZE BATCH STEPS THREADS -> one JSON line
import json, re, statistics, sys, time
import torch
import torch.nn as nn

config = json.loads(sys.argv[1])
size, batch, steps, threads = (int(a) for a in sys.argv[2:6])
CLASSES, WARMUP_STEPS = 10, 2
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
torch.manual_seed(0)


def conv_bn(cin, cout, k, stride, relu, zero_gamma=False):
    bn = nn.BatchNorm2d(cout)
    if zero_gamma:
        nn.init.zeros_(bn.weight)  # resnet.ts zero-initialises each branch's last BN (fastai)
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), bn]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.branch = nn.Sequential(conv_bn(cin, cout, 3, stride, True), conv_bn(cout, cout, 3, 1, False, True))
        short = []
        if stride != 1 or cin != cout:
            if config.get("shortcut") == "strided":
                short.append(conv_bn(cin, cout, 1, stride, False))
            else:
                if stride != 1:
                    short.append(nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False))
                short.append(conv_bn(cin, cout, 1, 1, False))
        self.shortcut = nn.Sequential(*short)

    def forward(self, x):
        return torch.relu(self.branch(x) + self.shortcut(x))


stem_width = config["stemWidth"]
if config["stem"] == "imagenet":
    layers = [conv_bn(3, stem_width, 3, 2, True), conv_bn(stem_width, stem_width, 3, 1, True), nn.MaxPool2d(3, 2, 1)]
elif config["stem"] == "torchvision":
    layers = [conv_bn(3, stem_width, 7, 2, True), nn.MaxPool2d(3, 2, 1)]
else:
    layers = [conv_bn(3, stem_width, 3, 1, True)]
cin = stem_width
for stage, (width, blocks) in enumerate(zip(config["widths"], config["blocks"])):
    for i in range(blocks):
        layers.append(BasicBlock(cin, width, 2 if i == 0 and stage > 0 else 1))
        cin = width
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, CLASSES))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
x = torch.sin(torch.arange(batch * 3 * size * size, dtype=torch.float64)).float().reshape(batch, 3, size, size)
y = torch.arange(batch) % CLASSES
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


for _ in range(WARMUP_STEPS):
    step()
times = []
def timed_step():
    t = time.perf_counter()
    step()
    times.append((time.perf_counter() - t) * 1000)
if len(sys.argv) > 6 and sys.argv[6] == "paired":
    # Paired mode (bench/train-step.ts): one step per "step" line on stdin, its ms on stdout, so
    # the two sides alternate step by step and a neighbour's load falls on both alike.
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        timed_step()
        print(round(times[-1], 1), flush=True)
else:
    for _ in range(steps):
        timed_step()
with open("/proc/self/status") as f:
    peak_kb = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))
params = sum(p.numel() for p in model.parameters())
print(json.dumps({"msPerStep": round(statistics.median(times), 1), "minMs": round(min(times), 1), "peakRssMB": round(peak_kb / 1024), "parameters": params, "torch": torch.__version__}))
