// `paddock predict --model model.onnx (--folder DIR | FILE...)`: get_preds (optionally TTA) for
// any images with an exported model; one CSV row per image, in input order.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { getPreds } from '@paddock/evaluation';
import { number } from '../options.ts';

interface PredictFlags {
  model: string;
  folder?: string;
  out?: string;
  batchSize?: number;
  tta?: boolean;
  ttaN?: number;
  beta?: number;
  useMax?: boolean;
  device?: 'cpu' | 'cuda' | 'auto';
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('predict images with an exported model.onnx: path,label,probability and one column per class, in input order (folders in get_image_files order)')
    .argument('[files...]', 'image files, predicted in the order given')
    .requiredOption('--model <file>', 'an exported model.onnx (paddock metadata: vocab, normalisation)')
    .option('--folder <dir>', 'every image under this folder, nested folders included, sorted by path')
    .option('--out <file>', 'write the CSV here instead of stdout')
    .option('--batch-size <n>', 'images per batch', number('--batch-size'), 64)
    .option('--tta', "test-time augmentation with the model's training augmentation (fastai's tta)")
    .option('--tta-n <n>', 'augmented passes', number('--tta-n'), 4)
    .option('--beta <x>', 'weight of the plain prediction in the TTA blend', number('--beta'), 0.25)
    .option('--use-max', 'TTA: max over the passes instead of the blend')
    .option('--device <d>', 'cpu, cuda or auto', 'cpu')
    .action(async (files: string[], flags: PredictFlags) => {
      if ((flags.folder === undefined) === (files.length === 0)) {
        throw Object.assign(new Error('predict: give either --folder DIR or a list of image files (not both, not neither)'), { exitCode: 2 });
      }
      const usage = (message: string) => Object.assign(new Error(`predict: ${message}`), { exitCode: 2 });
      if (!existsSync(flags.model)) throw usage(`${flags.model} does not exist; --model takes an exported model.onnx (a run folder's model.onnx)`);
      if (flags.folder !== undefined && !(existsSync(flags.folder) && statSync(flags.folder).isDirectory())) throw usage(`${flags.folder} is not a folder; --folder takes a folder of images`);
      const preds = await getPreds({
        modelPath: flags.model,
        ...(flags.folder !== undefined ? { folder: flags.folder } : { files }),
        batchSize: flags.batchSize,
        device: flags.device,
        tta: flags.tta ? { n: flags.ttaN, beta: flags.beta, useMax: flags.useMax ?? false } : false,
      });
      const C = preds.vocab.length;
      const failed = new Map(preds.failed.map((f) => [f.index, f.reason]));
      const rows = preds.paths.map((p, i) => [
        p,
        preds.labels[i],
        failed.has(i) ? '' : preds.probs[i * C + preds.decoded[i]].toFixed(6),
        ...Array.from(preds.probs.subarray(i * C, (i + 1) * C), (v) => (failed.has(i) ? '' : v.toFixed(6))),
      ]);
      const csv = stringify(rows, { header: true, columns: ['path', 'label', 'probability', ...preds.vocab], record_delimiter: '\n' });
      if (flags.out) writeFileSync(flags.out, csv);
      else process.stdout.write(csv);
      for (const [i, reason] of failed) process.stderr.write(`predict: ${preds.paths[i]} could not be read (${reason})\n`);
    });
}
