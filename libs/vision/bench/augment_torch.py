# The PyTorch side of bench/augment.ts: the same batch transform as Paddock's augmentation graph
# (libs/vision/src/augment-graph.ts) on the same uint8 images with the same per-image 3×3 thetas
# and lighting numbers, written with torch ops: uint8 NHWC → float NCHW → projective grid from the
# thetas → F.grid_sample (bilinear) → /255 → lighting in logit space → Normalize.
# Run with Debian's /usr/bin/python3 and python3-torch; never needed by tests.
# Usage: /usr/bin/python3 bench/augment_torch.py DIR THREADS [DEVICE=cpu|cuda] -> one JSON line
#   (with {"unavailable": why} when torch cannot use DEVICE)
#   DIR holds spec.json, images.u8 ([N, Hin, Win, 3]) and params.f32 (per batch: theta [N, 3, 3],
#   contrast [N], brightness [N]); the first batch of params warms up, the rest are timed. The
#   output of the first timed batch is written to DIR/torch-out.f32, and the same computed in
#   float64 to DIR/torch-out-f64.f32 (as float32), for bench/augment.ts to compare.
import json, statistics, sys, time
import numpy as np
import torch
import torch.nn.functional as F

folder, threads = sys.argv[1], int(sys.argv[2])
device = sys.argv[3] if len(sys.argv) > 3 else 'cpu'
if device == 'cuda' and not torch.cuda.is_available():
    print(json.dumps({'unavailable': f'torch {torch.__version__} has no CUDA here'}))
    sys.exit(0)
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
spec = json.load(open(f'{folder}/spec.json'))
n, h_in, w_in = spec['batch'], spec['inputHeight'], spec['inputWidth']
h_out, w_out = spec['size']
align = spec['alignCorners']
images = torch.from_numpy(np.fromfile(f'{folder}/images.u8', dtype=np.uint8).reshape(n, h_in, w_in, 3)).to(device)
params = torch.from_numpy(np.fromfile(f'{folder}/params.f32', dtype=np.float32).reshape(-1, n * 11)).to(device)
mean = torch.tensor(spec['mean'], device=device).view(1, 3, 1, 1)
std = torch.tensor(spec['std'], device=device).view(1, 3, 1, 1)


def axis(size):
    # grid_sample's normalised pixel centres, as augment-graph.ts's baseGrid
    if align:
        return torch.linspace(-1, 1, size) if size > 1 else torch.zeros(1)
    return (2 * torch.arange(size, dtype=torch.float32) + 1) / size - 1


ys, xs = torch.meshgrid(axis(h_out), axis(w_out), indexing='ij')
base = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, h_out * w_out, 3).to(device)


def augment(p, dtype=torch.float32):
    theta = p[: n * 9].view(n, 3, 3).to(dtype)
    contrast = p[n * 9 : n * 10].view(n, 1, 1, 1).to(dtype)
    brightness = p[n * 10 :].view(n, 1, 1, 1).to(dtype)
    x = images.permute(0, 3, 1, 2).to(dtype)
    homog = torch.bmm(base.to(dtype).expand(n, -1, -1), theta.transpose(1, 2))
    grid = (homog[..., :2] / homog[..., 2:]).view(n, h_out, w_out, 2)
    y = F.grid_sample(x, grid, mode='bilinear', padding_mode=spec['padMode'], align_corners=align) / 255
    y = y.clamp(1e-7, 1 - 1e-7)
    y = torch.sigmoid((torch.log(y / (1 - y)) + brightness) * contrast)
    return (y - mean.to(dtype)) / std.to(dtype)


with torch.no_grad():
    augment(params[0])
    seconds, cpu = [], []
    for i in range(1, params.shape[0]):
        t, c = time.perf_counter(), time.process_time()
        out = augment(params[i]).cpu()  # ours returns host memory too (and .cpu() waits for CUDA)
        seconds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if i == 1:
            out.numpy().astype(np.float32).tofile(f'{folder}/torch-out.f32')
    augment(params[1], torch.float64).cpu().numpy().astype(np.float32).tofile(f'{folder}/torch-out-f64.f32')
print(json.dumps({'torch': torch.__version__, 'batchesPerSecond': 1 / statistics.median(seconds), 'cpuMsPerBatch': 1000 * statistics.median(cpu)}))
