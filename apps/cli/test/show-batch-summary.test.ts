// `paddock show-batch` and `paddock summary` on a small generated dataset, run as a user runs them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paddock } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'paddock-show-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


beforeAll(async () => {
  for (const [label, bg] of [['reds', '#c83232'], ['blues', '#3240c8']] as const) {
    mkdirSync(join(dir, 'data/train_images', label), { recursive: true });
    for (let i = 0; i < 6; i++) {
      await sharp({ create: { width: 48 + i * 4, height: 40, channels: 3, background: bg } })
        .composite([{ input: { create: { width: 10, height: 10, channels: 3, background: '#ffffff' } }, left: i * 5, top: 4 }])
        .jpeg()
        .toFile(join(dir, 'data/train_images', label, `${label} ${i}.jpg`));
    }
  }
  writeFileSync(join(dir, 'data/train_images/reds/broken.jpg'), 'not a jpeg');
  writeFileSync(join(dir, 'recipe.yaml'), 'presize: { size: 48 }\naugment: { size: 32 }\n');
});

describe('paddock show-batch', () => {
  it('writes a PNG grid of augmented images with labels (and --unique)', async () => {
    const out = join(dir, 'grid.png');
    const r = await paddock(['show-batch', '--data', join(dir, 'data'), '--recipe', join(dir, 'recipe.yaml'), '--count', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.images).toBe(4);
    expect(info.size).toEqual([32, 32]);
    expect(info.labels.every((l: string) => l === 'reds' || l === 'blues')).toBe(true);
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(2 * 96);
    const unique = await paddock(['show-batch', '--data', join(dir, 'data'), '--recipe', join(dir, 'recipe.yaml'), '--unique', '--count', '3', '--out', join(dir, 'unique.png')]);
    expect(unique.code, unique.stderr).toBe(0);
    expect(new Set(JSON.parse(unique.stdout).labels).size).toBe(1);
  }, 40_000);
});

describe('paddock summary', () => {
  it('prints every step with dtype, shape and range, and names the failing step', async () => {
    const ok = await paddock(['summary', '--data', join(dir, 'data'), '--recipe', join(dir, 'recipe.yaml'), '--item', 'train_images/blues/blues 0.jpg']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^decode +uint8 \[40, 48, 3\], values \d+\.\.\d+/m);
    expect(ok.stdout).toMatch(/^presize +uint8 \[48, 48, 3\]/m);
    expect(ok.stdout).toMatch(/^augment +float32 \[1, 3, 32, 32\], values -?\d/m);
    expect(ok.stdout).toMatch(/^validation +float32 \[1, 3, 32, 32\]/m);
    const bad = await paddock(['summary', '--data', join(dir, 'data'), '--item', 'train_images/reds/broken.jpg']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^decode +FAILED: unsupported image format/m);
    expect(bad.stderr).toMatch(/fails at step "decode"/);
  }, 40_000);
});
