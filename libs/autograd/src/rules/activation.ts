// Activations beyond ReLU/Clip: the hard (piecewise-linear) sigmoid and swish MobileNetV3-style
// models use, and softmax / log-softmax over one axis (opset 13 semantics).
import { attrFloat, attrInt } from '@paddock/onnx';
import { defineGrad } from '../rule.ts';
import { mask } from '../helpers.ts';

defineGrad('HardSigmoid', ({ node, b, dy }) => {
  // y = clip(αx + β, 0, 1): slope α strictly inside, 0 on the flat parts (PyTorch's rule).
  const alpha = attrFloat(node, 'alpha', 0.2);
  const beta = attrFloat(node, 'beta', 0.5);
  const z = b.op('Add', [b.op('Mul', [node.inputs[0], b.scalar(alpha)]), b.scalar(beta)]);
  const inside = b.op('And', [b.op('Greater', [z, b.scalar(0)]), b.op('Less', [z, b.scalar(1)])]);
  return [b.op('Mul', [dy[0]!, b.op('Mul', [mask(b, inside), b.scalar(alpha)])])];
});

defineGrad('HardSwish', ({ node, b, dy }) => {
  // y = x·clip(x/6 + 1/2, 0, 1); dy/dx = x/3 + 1/2 on (−3, 3), 1 above, 0 below (PyTorch).
  const x = node.inputs[0];
  const inside = mask(b, b.op('And', [b.op('Greater', [x, b.scalar(-3)]), b.op('Less', [x, b.scalar(3)])]));
  const above = mask(b, b.op('Greater', [x, b.scalar(3)]));
  const slope = b.op('Add', [b.op('Mul', [inside, b.op('Add', [b.op('Mul', [x, b.scalar(1 / 3)]), b.scalar(0.5)])]), above]);
  return [b.op('Mul', [dy[0]!, slope])];
});

defineGrad('Softmax', ({ node, b, dy, shape }) => {
  // dx = y·(dy − Σ dy·y) along the axis.
  const y = node.outputs[0];
  const rank = shape(y).length;
  const axis = (attrInt(node, 'axis', -1) + rank) % rank;
  const dot = b.op('ReduceSum', [b.op('Mul', [dy[0]!, y]), b.int64s([axis], 'axes')], { keepdims: 1 });
  return [b.op('Mul', [y, b.op('Sub', [dy[0]!, dot])])];
});

defineGrad('LogSoftmax', ({ node, b, dy, shape }) => {
  // dx = dy − softmax·Σ dy along the axis, softmax = exp(y).
  const y = node.outputs[0];
  const rank = shape(y).length;
  const axis = (attrInt(node, 'axis', -1) + rank) % rank;
  const total = b.op('ReduceSum', [dy[0]!, b.int64s([axis], 'axes')], { keepdims: 1 });
  return [b.op('Sub', [dy[0]!, b.op('Mul', [b.op('Exp', [y]), total])])];
});
