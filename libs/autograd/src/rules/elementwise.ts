// Elementwise ops: arithmetic with broadcasting, activations and their masks.
import { defineGrad } from '../rule.ts';
import { mask, reduceTo } from '../helpers.ts';

defineGrad('Identity', ({ dy }) => [dy[0]]);

defineGrad('Add', ({ node, b, dy, shape, needs }) => {
  const out = shape(node.outputs[0]);
  return node.inputs.map((x, i) => (needs(i) ? reduceTo(b, dy[0]!, out, shape(x)) : undefined));
});

defineGrad('Sum', ({ node, b, dy, shape, needs }) => {
  const out = shape(node.outputs[0]);
  return node.inputs.map((x, i) => (needs(i) ? reduceTo(b, dy[0]!, out, shape(x)) : undefined));
});

defineGrad('Sub', ({ node, b, dy, shape, needs }) => {
  const out = shape(node.outputs[0]);
  return [
    needs(0) ? reduceTo(b, dy[0]!, out, shape(node.inputs[0])) : undefined,
    needs(1) ? reduceTo(b, b.op('Neg', [dy[0]!]), out, shape(node.inputs[1])) : undefined,
  ];
});

defineGrad('Mul', ({ node, b, dy, shape, needs }) => {
  const [x, y] = node.inputs;
  const out = shape(node.outputs[0]);
  return [
    needs(0) ? reduceTo(b, b.op('Mul', [dy[0]!, y]), out, shape(x)) : undefined,
    needs(1) ? reduceTo(b, b.op('Mul', [dy[0]!, x]), out, shape(y)) : undefined,
  ];
});

defineGrad('Div', ({ node, b, dy, shape, needs }) => {
  const [x, y] = node.inputs;
  const out = shape(node.outputs[0]);
  const dx = b.op('Div', [dy[0]!, y]);
  return [
    needs(0) ? reduceTo(b, dx, out, shape(x)) : undefined,
    // d(x/y)/dy = -x/y² = -(x/y)/y
    needs(1) ? reduceTo(b, b.op('Neg', [b.op('Mul', [dx, node.outputs[0]])]), out, shape(y)) : undefined,
  ];
});

defineGrad('Neg', ({ b, dy }) => [b.op('Neg', [dy[0]!])]);

defineGrad('Relu', ({ node, b, dy }) => {
  // Gradient 0 at exactly 0, as PyTorch.
  const positive = b.op('Greater', [node.outputs[0], b.scalar(0)]);
  return [b.op('Mul', [dy[0]!, mask(b, positive)])];
});

defineGrad('Clip', ({ node, b, dy }) => {
  // ReLU6 and friends: gradient only strictly inside (min, max), as PyTorch's hardtanh.
  const [x, min, max] = node.inputs;
  let inside: string | undefined;
  if (min) inside = b.op('Greater', [x, min]);
  if (max) {
    const below = b.op('Less', [x, max]);
    inside = inside ? b.op('And', [inside, below]) : below;
  }
  return [inside ? b.op('Mul', [dy[0]!, mask(b, inside)]) : dy[0]];
});

defineGrad('Sigmoid', ({ node, b, dy }) => {
  const y = node.outputs[0];
  return [b.op('Mul', [dy[0]!, b.op('Mul', [y, b.op('Sub', [b.scalar(1), y])])])];
});

defineGrad('Tanh', ({ node, b, dy }) => {
  const y = node.outputs[0];
  return [b.op('Mul', [dy[0]!, b.op('Sub', [b.scalar(1), b.op('Mul', [y, y])])])];
});

defineGrad('Erf', ({ node, b, dy }) => {
  // d erf(x)/dx = 2/√π · exp(−x²)
  const x = node.inputs[0];
  const g = b.op('Mul', [b.scalar(2 / Math.sqrt(Math.PI)), b.op('Exp', [b.op('Neg', [b.op('Mul', [x, x])])])]);
  return [b.op('Mul', [dy[0]!, g])];
});

defineGrad('Sqrt', ({ node, b, dy }) => [b.op('Div', [dy[0]!, b.op('Mul', [b.scalar(2), node.outputs[0]])])]);

defineGrad('Exp', ({ node, b, dy }) => [b.op('Mul', [dy[0]!, node.outputs[0]])]);

defineGrad('Pow', ({ node, b, dy, constant, needs }) => {
  // Only a build-time constant exponent (x², x^0.5, ... as exporters write them).
  const [x, p] = node.inputs;
  const exponent = constant(p);
  if (needs(1) || !exponent || exponent.data.length !== 1) throw new RangeError(`Pow "${node.name}": only a constant scalar exponent is differentiated`);
  const e = Number(exponent.data[0]);
  const power = e === 2 ? x : b.op('Pow', [x, b.scalar(e - 1)]);
  return [b.op('Mul', [dy[0]!, b.op('Mul', [power, b.scalar(e)])]), undefined];
});

defineGrad('Reciprocal', ({ node, b, dy }) => {
  const y = node.outputs[0];
  return [b.op('Neg', [b.op('Mul', [dy[0]!, b.op('Mul', [y, y])])])];
});

defineGrad('Mean', ({ node, b, dy, shape, needs }) => {
  const out = shape(node.outputs[0]);
  const scaled = b.op('Mul', [dy[0]!, b.scalar(1 / node.inputs.length)]);
  return node.inputs.map((x, i) => (needs(i) ? reduceTo(b, scaled, out, shape(x)) : undefined));
});

defineGrad('Cast', ({ node, b, dy }) => {
  // Only float → float casts carry a gradient (a cast to an integer type ends the path).
  const to = node.attrs.to;
  if (!to || to.kind !== 'int' || to.value !== 1) throw new RangeError(`Cast "${node.name}": only casts to float32 are differentiated`);
  return [dy[0]];
});
