// Test support: run the real paddock command (bin/paddock.js) as a user would, in a child process.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const bin = join(import.meta.dirname, '../bin/paddock.js');
const exec = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function paddock(args: string[], cwd?: string): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const COLOURS: Record<string, [number, number, number]> = { reds: [200, 40, 40], blues: [40, 60, 200] };

/** train_images/<reds|blues>/ with `perLabel` noisy squares of each colour (the same pixels every time). */
export async function colourTrainImages(dir: string, perLabel: number, { width = 40, height = 32, format = 'jpg' }: { width?: number; height?: number; format?: 'jpg' | 'png' } = {}): Promise<void> {
  for (const [label, rgb] of Object.entries(COLOURS)) {
    mkdirSync(join(dir, 'train_images', label), { recursive: true });
    for (let i = 0; i < perLabel; i++) {
      const px = Buffer.alloc(width * height * 3);
      for (let k = 0; k < px.length; k++) px[k] = Math.max(0, Math.min(255, rgb[k % 3] + ((k * 7919 + i * 104729) % 61) - 30));
      const image = sharp(px, { raw: { width, height, channels: 3 } });
      await (format === 'png' ? image.png() : image.jpeg()).toFile(join(dir, 'train_images', label, `${label}_${i}.${format}`));
    }
  }
}

/**
 * A dataset in the Kaggle layout told apart by colour: `perLabel` noisy 40×32 JPEGs of red-ish and
 * blue-ish squares, `tests` flat PNG test images 1.png…, and a sample_submission.csv listing them
 * in `sampleOrder` (default 1.png, 2.png, …).
 */
export async function colourDataset(dir: string, perLabel: number, tests: number, sampleOrder?: string[]): Promise<void> {
  await colourTrainImages(dir, perLabel);
  mkdirSync(join(dir, 'test_images'), { recursive: true });
  for (let i = 0; i < tests; i++) {
    const rgb = i % 2 ? COLOURS.reds : COLOURS.blues;
    await sharp({ create: { width: 40, height: 32, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(join(dir, 'test_images', `${i + 1}.png`));
  }
  const ids = sampleOrder ?? Array.from({ length: tests }, (_, i) => `${i + 1}.png`);
  writeFileSync(join(dir, 'sample_submission.csv'), `image_id,label\n${ids.map((id) => `${id},`).join('\n')}\n`);
}
