// Softmax cross-entropy: d loss / d logits = (softmax − onehot) · dLoss / N, from the op's own
// log_prob output, so nothing is computed twice.
import { attrString } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { defineGrad } from '../rule.ts';

defineGrad('SoftmaxCrossEntropyLoss', ({ node, b, dy, shape }) => {
  const [logits, labels] = node.inputs;
  const logProb = node.outputs[1];
  if (!logProb) throw new Error(`SoftmaxCrossEntropyLoss "${node.name}": the training form must expose log_prob`);
  if (node.inputs[2]) throw new RangeError(`SoftmaxCrossEntropyLoss "${node.name}": class weights are not supported`);
  const [n, c] = shape(logits);
  const reduction = attrString(node, 'reduction', 'mean');
  const onehot = b.op('OneHot', [labels, b.constant(tensor('int64', [], BigInt64Array.of(BigInt(c))), 'depth'), b.constant(tensor('float32', [2], Float32Array.of(0, 1)), 'onoff')], { axis: -1 });
  const diff = b.op('Sub', [b.op('Exp', [logProb]), onehot]);
  const upstream = reduction === 'mean' ? b.op('Mul', [dy[0]!, b.scalar(1 / n)]) : reduction === 'sum' ? dy[0]! : b.op('Unsqueeze', [dy[0]!, b.int64s([1], 'axes')]);
  return [b.op('Mul', [diff, upstream]), undefined];
});
