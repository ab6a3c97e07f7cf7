// `paddock submit RUN`: (re)write a run's submission.csv from its model.onnx and manifest.json,
// optionally with fastai's TTA — without training again.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readManifestFile } from '@paddock/contracts';
import { submit } from '@paddock/submission';
import { number } from '../options.ts';

interface SubmitFlags {
  model?: string;
  tta?: boolean;
  ttaN: number;
  beta: number;
  useMax?: boolean;
  batchSize: number;
  device: 'cpu' | 'cuda' | 'auto';
}

export function register(program: Command): void {
  program
    .command('submit')
    .description("write <run>/submission.csv from the run's model.onnx for its test images, in sample_submission order (sorted without a sample)")
    .argument('<run>', 'a run folder written by paddock run (manifest.json and model.onnx)')
    .option('--model <file>', 'predict with this exported model.onnx instead of <run>/model.onnx (same vocab)')
    .option('--tta', "test-time augmentation with the model's training augmentation (fastai's tta)")
    .option('--tta-n <n>', 'augmented passes', number('--tta-n'), 4)
    .option('--beta <x>', 'weight of the plain prediction in the TTA blend', number('--beta'), 0.25)
    .option('--use-max', 'TTA: max over the passes instead of the blend')
    .option('--batch-size <n>', 'images per batch', number('--batch-size'), 64)
    .option('--device <d>', 'cpu, cuda or auto', 'cpu')
    .action(async (run: string, flags: SubmitFlags) => {
      const runDir = resolve(run);
      const manifestPath = join(runDir, 'manifest.json');
      const modelPath = resolve(flags.model ?? join(runDir, 'model.onnx'));
      for (const [path, fix] of [[manifestPath, 'give a folder written by paddock run'], [modelPath, 'train first (paddock run / paddock train) or pass --model']]) {
        if (!existsSync(path)) throw Object.assign(new Error(`submit: ${path} does not exist; ${fix}`), { exitCode: 2 });
      }
      const manifest = readManifestFile(manifestPath);
      if (manifest.testItems.length === 0) throw Object.assign(new Error(`submit: ${manifestPath} lists no test images (the dataset has no test_images folder)`), { exitCode: 2 });
      const tta = flags.tta ? { n: flags.ttaN, beta: flags.beta, useMax: flags.useMax ?? false } : false;
      const { created, unreadable } = await submit({ manifest, modelPath, outDir: runDir, device: flags.device, batchSize: flags.batchSize, tta });
      for (const u of unreadable) process.stderr.write(`submit: ${u.imageId} could not be read (${u.reason}); it gets the most frequent training label\n`);
      process.stdout.write(`${JSON.stringify({ submission: created.path, rows: created.rows, order: created.order, tta: tta || undefined })}\n`);
    });
}
