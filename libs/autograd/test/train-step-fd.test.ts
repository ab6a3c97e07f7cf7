// A whole training step checked by finite differences: a tiny conv net (Conv+bias, train-mode
// BatchNorm, ReLU, MaxPool, global average pool, Gemm, mean cross-entropy) in float64 JS,
// central differences of the loss for every parameter element, against buildTrainStep's graph.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, encodeModel, float } from '@paddock/onnx';
import { Random, tensor } from '@paddock/tensor';
import { buildTrainStep } from '../src/index.ts';
import { compare } from './fixtures.ts';

const [N, C, H, W, O, K, CLASSES] = [3, 2, 6, 6, 4, 3, 3];
const eps = Math.fround(1e-5);

interface Params {
  w: Float64Array; // O×C×K×K
  b: Float64Array; // O
  gamma: Float64Array;
  beta: Float64Array;
  fc: Float64Array; // CLASSES×O
  fcb: Float64Array;
}

/** Float64 forward: returns the loss, the minimum |BN output| (ReLU kink distance) and batch stats. */
function forward(x: Float64Array, labels: number[], p: Params) {
  const conv = new Float64Array(N * O * H * W);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          let s = p.b[o];
          for (let c = 0; c < C; c++)
            for (let u = 0; u < K; u++)
              for (let v = 0; v < K; v++) {
                const [ii, jj] = [i + u - 1, j + v - 1];
                if (ii >= 0 && ii < H && jj >= 0 && jj < W) s += x[((n * C + c) * H + ii) * W + jj] * p.w[((o * C + c) * K + u) * K + v];
              }
          conv[((n * O + o) * H + i) * W + j] = s;
        }
  const m = N * H * W;
  const mean = new Float64Array(O);
  const variance = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) s += conv[(n * O + o) * H * W + k];
    mean[o] = s / m;
    let q = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < H * W; k++) q += (conv[(n * O + o) * H * W + k] - mean[o]) ** 2;
    variance[o] = q / m;
  }
  let kink = Infinity;
  const act = conv.map((v, idx) => {
    const o = Math.floor(idx / (H * W)) % O;
    const y = ((v - mean[o]) / Math.sqrt(variance[o] + eps)) * p.gamma[o] + p.beta[o];
    kink = Math.min(kink, Math.abs(y));
    return Math.max(0, y);
  });
  // MaxPool 2×2/2, then the mean of the pooled 3×3 map.
  const [PH, PW] = [H / 2, W / 2];
  const pooled = new Float64Array(N * O);
  let gap = Infinity;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < PH; i++)
        for (let j = 0; j < PW; j++) {
          const win = [0, 1, 2, 3].map((t) => act[((n * O + o) * H + 2 * i + (t >> 1)) * W + 2 * j + (t & 1)]).sort((a, b) => b - a);
          if (win[0] > 0) gap = Math.min(gap, win[0] - win[1]);
          s += win[0];
        }
      pooled[n * O + o] = s / (PH * PW);
    }
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const z = Array.from({ length: CLASSES }, (_, k) => p.fcb[k] + Array.from({ length: O }, (_, o) => pooled[n * O + o] * p.fc[k * O + o]).reduce((a, b) => a + b, 0));
    const max = Math.max(...z);
    loss += Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)) + max - z[labels[n]];
  }
  return { loss: loss / N, kink, gap, mean, variance };
}

describe('whole train step vs float64 finite differences', () => {
  it('every parameter gradient and the BatchNorm running statistics of a tiny conv net', async () => {
    const random = new Random(2024);
    const draw = (n: number, scale = 1) => Float64Array.from({ length: n }, () => Math.fround(random.normal() * scale));
    const p: Params = { w: draw(O * C * K * K, 0.5), b: draw(O, 0.1), gamma: draw(O, 0.1).map((v) => Math.fround(1 + v)), beta: draw(O, 0.1), fc: draw(CLASSES * O, 0.5), fcb: draw(CLASSES, 0.1) };
    const x = draw(N * C * H * W);
    const labels = [0, 2, 1];
    const runningMean = draw(O, 0.1);
    const runningVar = draw(O, 0.1).map((v) => Math.fround(1 + Math.abs(v)));

    const b = new GraphBuilder('tiny_fd');
    const input = b.input('input', 'float32', ['N', C, H, W]);
    const f32 = (v: Float64Array, shape: number[]) => tensor('float32', shape, Float32Array.from(v));
    let y = b.op('Conv', [input, b.initializer('conv.weight', f32(p.w, [O, C, K, K])), b.initializer('conv.bias', f32(p.b, [O]))], { kernel_shape: [K, K], pads: [1, 1, 1, 1] });
    const bn = ['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'].map((name, i) => b.initializer(name, f32([p.gamma, p.beta, runningMean, runningVar][i], [O])));
    y = b.op('Relu', [b.op('BatchNormalization', [y, ...bn], { epsilon: float(eps), momentum: float(0.9) })]);
    y = b.op('GlobalAveragePool', [b.op('MaxPool', [y], { kernel_shape: [2, 2], strides: [2, 2] })]);
    b.opN('Gemm', [b.op('Flatten', [y]), b.initializer('fc.weight', f32(p.fc, [CLASSES, O])), b.initializer('fc.bias', f32(p.fcb, [CLASSES]))], { transB: 1 }, { outputs: ['logits'] });
    b.output('logits', 'float32', ['N', CLASSES]);
    const step = buildTrainStep(b.build(), { batchSize: N, optimizer: 'none' });

    const session = await ort.InferenceSession.create(encodeModel(step.model));
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('float32', Float32Array.from(x), [N, C, H, W]),
      labels: new ort.Tensor('int64', BigInt64Array.from(labels.map(BigInt)), [N]),
    };
    for (const q of [...step.parameters, ...step.runningStats.map((s) => ({ name: s.input, value: s.value }))]) feeds[q.name] = new ort.Tensor('float32', q.value.data as Float32Array, q.value.shape as number[]);
    const out = await session.run(feeds);

    const base = forward(x, labels, p);
    // Kinks far from the FD step: no ReLU input or max-pool tie within 1e-3.
    expect(base.kink).toBeGreaterThan(1e-3);
    expect(base.gap).toBeGreaterThan(1e-3);
    expect((out[step.loss].data as Float32Array)[0]).toBeCloseTo(base.loss, 5);

    const keys: Record<string, keyof Params> = { 'conv.weight': 'w', 'conv.bias': 'b', 'bn.weight': 'gamma', 'bn.bias': 'beta', 'fc.weight': 'fc', 'fc.bias': 'fcb' };
    const h = 1e-5;
    for (const param of step.parameters) {
      const key = keys[param.name];
      const fd = new Float64Array(p[key].length);
      for (let j = 0; j < fd.length; j++) {
        const plus = { ...p, [key]: p[key].slice() } as Params;
        const minus = { ...p, [key]: p[key].slice() } as Params;
        plus[key][j] += h;
        minus[key][j] -= h;
        fd[j] = (forward(x, labels, plus).loss - forward(x, labels, minus).loss) / (2 * h);
      }
      const mine = out[param.grad!].data as Float32Array;
      if (param.name === 'conv.bias') {
        // Structurally zero (README "Trap 2"): BatchNorm subtracts any per-channel constant again.
        expect(Math.max(...fd.map(Math.abs))).toBeLessThan(1e-8);
        expect(Math.max(...Array.from(mine, Math.abs))).toBeLessThan(1e-6);
      } else expect({ param: param.name, ...compare(mine, fd, 1e-4) }).toMatchObject({ param: param.name, ok: true });
    }
    // PyTorch's running-stat rule: momentum 0.1, unbiased batch variance.
    const m = N * H * W;
    const expectedMean = runningMean.map((r, o) => 0.9 * r + 0.1 * base.mean[o]);
    const expectedVar = runningVar.map((r, o) => 0.9 * r + 0.1 * base.variance[o] * (m / (m - 1)));
    const [rm, rv] = step.runningStats;
    expect(compare(out[rm.output].data as Float32Array, expectedMean, 1e-5).ok).toBe(true);
    expect(compare(out[rv.output].data as Float32Array, expectedVar, 1e-5).ok).toBe(true);
  }, 30_000);
});
