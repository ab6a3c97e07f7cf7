import { describe, expect, it } from 'vitest';
import { GraphBuilder, encodeModel } from '@paddock/onnx';
import { tensor } from '@paddock/tensor';
import { createSession, fromOrt, resolveDevice, toOrt } from '../src/index.ts';

function doubler(): Uint8Array {
  const b = new GraphBuilder('double');
  const x = b.input('x', 'float32', [3]);
  b.opN('Add', [x, x], {}, { outputs: ['y'] });
  b.output('y', 'float32', [3]);
  return encodeModel(b.build());
}

const cudaPresent = process.env.PADDOCK_EXPECT_CUDA === '1';

describe('runtime sessions', () => {
  it('runs on the CPU provider and converts tensors both ways', async () => {
    const { session, device } = await createSession(doubler(), { device: 'cpu', threads: 1 });
    expect(device).toBe('cpu');
    const out = await session.run({ x: toOrt(tensor('float32', [3], Float32Array.of(1, 2, 3))) });
    const y = fromOrt(out.y);
    expect(y.shape).toEqual([3]);
    expect(Array.from(y.data as Float32Array)).toEqual([2, 4, 6]);
  });

  it.skipIf(cudaPresent)('device auto falls back to CPU with a message; device cuda fails naming the fix', async () => {
    const notices: string[] = [];
    const auto = await createSession(doubler(), { device: 'auto', onNotice: (m) => notices.push(m) });
    expect(auto.device).toBe('cpu');
    expect(notices.join('\n')).toMatch(/CUDA is not available .*running on CPU/);
    expect(resolveDevice('auto')).toEqual(['cpu']);
    await expect(createSession(doubler(), { device: 'cuda' })).rejects.toThrow(/--device cpu/);
  });
});
