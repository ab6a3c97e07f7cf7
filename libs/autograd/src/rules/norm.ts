// LayerNormalization: the gradient from the op's own Mean and InvStdDev outputs (the training
// form exposes them), written per row as BatchNorm's closed form is per channel.
import { attrInt } from '@paddock/onnx';
import { defineGrad } from '../rule.ts';

defineGrad('LayerNormalization', ({ node, b, dy, shape, needs }) => {
  const [x, scale, bias] = node.inputs;
  const [, mean, invstd] = node.outputs;
  if (!mean || !invstd) throw new Error(`LayerNormalization "${node.name}": the training form must expose Mean and InvStdDev`);
  const sx = shape(x);
  const axis = (attrInt(node, 'axis', -1) + sx.length) % sx.length;
  const lead = Array.from({ length: axis }, (_, i) => i);
  const rows = Array.from({ length: sx.length - axis }, (_, i) => axis + i);
  const g = dy[0]!;
  const xhat = b.op('Mul', [b.op('Sub', [x, mean]), invstd]);
  let dx: string | undefined;
  if (needs(0)) {
    // dX = invstd · (g − mean(g) − x̂·mean(g·x̂)) with g = dY·γ, means over the normalised dims.
    const gs = b.op('Mul', [g, scale]);
    const meanG = b.op('ReduceMean', [gs], { axes: rows, keepdims: 1 });
    const meanGX = b.op('ReduceMean', [b.op('Mul', [gs, xhat])], { axes: rows, keepdims: 1 });
    dx = b.op('Mul', [b.op('Sub', [b.op('Sub', [gs, meanG]), b.op('Mul', [xhat, meanGX])]), invstd]);
  }
  const sumLead = (v: string) => (lead.length ? b.op('ReduceSum', [v, b.int64s(lead, 'axes')], { keepdims: 0 }) : v);
  const dScale = needs(1) ? sumLead(b.op('Mul', [g, xhat])) : undefined;
  const dBias = bias && needs(2) ? sumLead(g) : undefined;
  return [dx, dScale, dBias];
});
