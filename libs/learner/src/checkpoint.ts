// Checkpoint files: a Learner's full training state (weights, optimizer state, BatchNorm
// statistics, Adam step counts, loss scale, plan position, recorder) plus the caller's metadata, as one
// binary file: "PDCK", a uint32 header length, a JSON header, then the float32 tensors. Writing
// it atomically is the caller's job (the training stage uses @paddock/store's writeFileAtomic).
import { tensor, type Tensor } from '@paddock/tensor';
import type { LearnerCheckpoint } from './learner.ts';

const magic = 'PDCK';

export class CheckpointError extends Error {
  readonly exitCode = 2;
}

interface Header {
  checkpoint: Omit<LearnerCheckpoint, 'engine'> & { engine: Omit<LearnerCheckpoint['engine'], 'tensors'> };
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  meta: Record<string, unknown>;
}

export function encodeCheckpoint(c: LearnerCheckpoint, meta: Record<string, unknown> = {}): Uint8Array {
  const tensors: Header['tensors'] = [];
  let offset = 0;
  for (const [name, t] of c.engine.tensors) {
    tensors.push({ name, shape: [...t.shape], offset, length: t.data.length });
    offset += t.data.length;
  }
  const header: Header = { checkpoint: { ...c, engine: { steps: c.engine.steps, stepCount: c.engine.stepCount, lossScaler: c.engine.lossScaler } }, tensors, meta };
  // JSON cannot hold NaN or Infinity; the recorder may (a validation set of 0 items), so they travel as {nonFinite: "NaN"}.
  const json = new TextEncoder().encode(JSON.stringify(header, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v)));
  const pad = (4 - ((8 + json.length) % 4)) % 4;
  const out = new Uint8Array(8 + json.length + pad + offset * 4);
  out.set(new TextEncoder().encode(magic), 0);
  new DataView(out.buffer).setUint32(4, json.length + pad, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + json.length + pad);
  const floats = new Float32Array(out.buffer, 8 + json.length + pad, offset);
  for (const [i, [, t]] of [...c.engine.tensors].entries()) floats.set(t.data as Float32Array, tensors[i].offset);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): { checkpoint: LearnerCheckpoint; meta: Record<string, unknown> } {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== magic) throw new CheckpointError(`${source}: not a Paddock checkpoint (no PDCK header); pass the checkpoint.bin a run wrote`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)), (_, v) => (v && typeof v === 'object' && 'nonFinite' in v ? Number(v.nonFinite) : v)) as Header;
  if (header.checkpoint.format !== 'paddock.checkpoint/1') throw new CheckpointError(`${source}: checkpoint format ${String(header.checkpoint.format)} is not supported (expected paddock.checkpoint/1)`);
  // A copy at offset 0 (a Node Buffer's slice() shares a pooled ArrayBuffer at some offset).
  const data = Uint8Array.from(bytes.subarray(8 + length)).buffer;
  const tensors = new Map<string, Tensor<'float32'>>();
  for (const t of header.tensors) tensors.set(t.name, tensor('float32', t.shape, new Float32Array(data, t.offset * 4, t.length).slice()));
  return { checkpoint: { ...header.checkpoint, engine: { ...header.checkpoint.engine, tensors } }, meta: header.meta };
}
