// Reads the PyTorch oracles in ../shared/fixtures (tests only; the product never needs them).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRawTensor, type Tensor } from '@paddock/tensor';

export const fixturesDir = join(import.meta.dirname, '../../../../shared/fixtures');
export const haveFixtures = existsSync(join(fixturesDir, 'index.json'));

export interface TensorDesc {
  file: string;
  dtype: 'float32' | 'int64';
  shape: number[];
  abs_max?: number;
  sum?: number;
}

export function readDesc(dir: string, d: TensorDesc): Tensor {
  return readRawTensor(join(dir, d.file), d.dtype, d.shape);
}

export function readCase(dir: string): any {
  return JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
}

export function opCases(): string[] {
  return haveFixtures ? readdirSync(join(fixturesDir, 'ops')).sort() : [];
}

/** The fixtures' acceptance rule: rel_l2 ≤ tol and |Δ| ≤ tol·abs_max + tol·|stored| elementwise. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): { relL2: number; worst: number; ok: boolean } {
  let num = 0;
  let den = 0;
  let absMax = 0;
  for (let i = 0; i < expected.length; i++) absMax = Math.max(absMax, Math.abs(expected[i]));
  let worst = 0;
  let ok = actual.length === expected.length;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    num += d * d;
    den += expected[i] * expected[i];
    const allowed = tol * absMax + tol * Math.abs(expected[i]);
    worst = Math.max(worst, d / (absMax || 1));
    if (!(d <= allowed)) ok = false;
  }
  const relL2 = den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
  return { relL2, worst, ok: ok && relL2 <= tol };
}
