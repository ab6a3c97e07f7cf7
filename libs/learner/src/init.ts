// Weight initialisation as PyTorch/fastai do it, from an explicit seeded Random.
import { Random, tensor, type Tensor } from '@paddock/tensor';

/** kaiming_normal_(mode='fan_out', nonlinearity='relu') — torchvision's ResNet conv init. */
export function kaimingNormal(shape: number[], fan: number, random: Random): Tensor<'float32'> {
  const std = Math.sqrt(2 / fan);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = random.normal() * std;
  return tensor('float32', shape, data);
}

/** nn.Linear's default: U(−1/√fan_in, 1/√fan_in) for weight and bias. */
export function linearUniform(shape: number[], fanIn: number, random: Random): Tensor<'float32'> {
  const bound = 1 / Math.sqrt(fanIn);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = random.uniform(-bound, bound);
  return tensor('float32', shape, data);
}

export function constant(shape: number[], value: number): Tensor<'float32'> {
  return tensor('float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));
}
