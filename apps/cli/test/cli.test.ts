// The paddock command as a user meets it: bad input → one clear message and exit code 2 before
// any work; a whole run on a small generated dataset writes every promised file.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { colourDataset, paddock } from './support.ts';



/** Two labels told apart by colour, 10.png before 9.png in the sample (the submission must keep
 *  that order, not sort it), and a text file named like an image among the reds. */
async function makeDataset(dir: string, perLabel: number, tests: number): Promise<void> {
  await colourDataset(dir, perLabel, tests, Array.from({ length: tests }, (_, i) => `${tests - i}.png`));
  writeFileSync(join(dir, 'train_images', 'reds', 'notes.jpg'), 'not an image at all');
}

describe('paddock run: bad input', () => {
  it('a missing data folder: exit 2, the path named, nothing written', async () => {
    const out = mkdtempSync(join(tmpdir(), 'paddock-out-'));
    const r = await paddock(['run', '--data', '/nonexistent/paddy', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/paddy');
    expect(existsSync(join(out, 'paddy'))).toBe(false);
  }, 60_000);

  it('an empty folder and a folder without labelled images: exit 2', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'paddock-empty-'));
    expect((await paddock(['run', '--data', empty])).code).toBe(2);
    mkdirSync(join(empty, 'train_images'));
    mkdirSync(join(empty, 'test_images'));
    const r = await paddock(['run', '--data', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/train_images/);
  }, 60_000);

  it('a sample_submission naming missing files: exit 2 naming them, before training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-sample-'));
    await makeDataset(dir, 3, 2);
    writeFileSync(join(dir, 'sample_submission.csv'), 'image_id,label\n1.png,\nghost.png,\n');
    const r = await paddock(['run', '--data', dir, '--out', join(dir, 'runs')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ghost.png');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  }, 60_000);

  it('an invalid recipe fails before any work with the field path and the allowed values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-recipe-'));
    writeFileSync(join(dir, 'recipe.yaml'), 'presize:\n  method: stretch\ntraining:\n  epochs: 0\n');
    const r = await paddock(['run', '--data', '/nonexistent', '--recipe', join(dir, 'recipe.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('presize.method');
    expect(r.stderr).toContain('"squish", "crop", "pad"');
    expect(r.stderr).toContain('training.epochs');
    expect(r.stderr).not.toContain('/nonexistent');
  }, 60_000);
});

describe('paddock run: a whole run', () => {
  it('writes manifest, audit, metrics, model, evaluation, confusion matrix and submission', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-run-'));
    await makeDataset(dir, 24, 10);
    const out = join(dir, 'runs');
    const r = await paddock(['run', '--data', dir, '--out', out, '--run-id', 'r1', '--epochs', '2', '--batch-size', '8', '--arch', 'resnet-tiny', '--presize', '36', '--size', '32', '--lr', '0.01', '--threads', '2', '--tta']);
    expect(r.stderr + r.stdout).not.toMatch(/Error:/);
    expect(r.code).toBe(0);
    const run = join(out, 'r1');
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    expect(manifest.vocab).toEqual(['blues', 'reds']);
    expect(manifest.items).toHaveLength(48);
    const audit = JSON.parse(readFileSync(join(run, 'audit.json'), 'utf8'));
    expect(JSON.stringify(audit.problems)).toContain('notes.jpg');
    const metrics = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(metrics[0]).toBe('epoch,train_loss,valid_loss,error_rate,accuracy,time_s,images_per_s');
    expect(metrics).toHaveLength(3);
    expect(r.stderr).toMatch(/epoch\s+train_loss\s+valid_loss\s+error_rate\s+time/);
    const evaluation = JSON.parse(readFileSync(join(run, 'evaluation.json'), 'utf8'));
    expect(evaluation.items).toBe(9); // int(0.2 · 48)
    expect(evaluation.confusionMatrix.reduce((a: number, b: number) => a + b, 0)).toBe(9);
    const png = await sharp(join(run, 'confusion_matrix.png')).metadata();
    expect(png.format).toBe('png');
    const rows = readFileSync(join(run, 'submission.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('image_id,label');
    expect(rows.slice(1).map((l) => l.split(',')[0])).toEqual(['10.png', '9.png', '8.png', '7.png', '6.png', '5.png', '4.png', '3.png', '2.png', '1.png']);
    for (const row of rows.slice(1)) expect(['blues', 'reds']).toContain(row.split(',')[1]);
    // --tta: the submission came from TTA predictions, the same file `paddock submit --tta` writes.
    expect(JSON.parse(readFileSync(join(run, 'recipe.json'), 'utf8')).evaluation.tta).toBe(true);
    expect(r.stderr).toContain('submission.csv with 10 rows (sample order, TTA)');
    const submitted = await paddock(['submit', run, '--tta']);
    expect(submitted.code).toBe(0);
    expect(readFileSync(join(run, 'submission.csv'), 'utf8').trim().split('\n')).toEqual(rows);
    // model.onnx runs in a plain onnxruntime session, with its vocab in the metadata.
    const session = await ort.InferenceSession.create(join(run, 'model.onnx'));
    const out1 = await session.run({ image: new ort.Tensor('uint8', new Uint8Array(2 * 32 * 32 * 3).fill(128), [2, 32, 32, 3]) });
    const probs = out1.probabilities.data as Float32Array;
    expect(probs[0] + probs[1]).toBeCloseTo(1, 5);
  }, 240_000);
});

describe('paddock doctor', () => {
  it.skipIf(process.env.PADDOCK_EXPECT_CUDA === '1')('reports CPU working and CUDA missing with the fix; --require cuda exits 1, --require cpu 0', async () => {
    const r = await paddock(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.providers.map((p: { provider: string; loads: boolean }) => [p.provider, p.loads])).toEqual([['cpu', true], ['cuda', false], ['tensorrt', false]]);
    expect((await paddock(['doctor', '--require', 'cuda'])).code).toBe(1);
    const text = await paddock(['doctor', '--require', 'cpu']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok {3}cpu/m);
    expect(text.stdout).toContain('fix: install them with `paddock setup-cuda <provider package>`');
  }, 60_000);

  it.skipIf(process.env.PADDOCK_EXPECT_CUDA === '1')('run --device cuda without CUDA: exit 2 before any work, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-cuda-'));
    await makeDataset(dir, 4, 1);
    const r = await paddock(['run', '--data', dir, '--out', join(dir, 'runs'), '--run-id', 'c', '--device', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^paddock: device cuda: libonnxruntime_providers_cuda.so is not installed in .*paddock setup-cuda/);
    expect(r.stderr).not.toContain('onnxruntime:'); // none of onnxruntime's own log lines
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  }, 60_000);

  it('status of an unknown run and trigger without a reachable NATS: exit 2 naming what is missing', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'paddock-status-'));
    const status = await paddock(['status', 'nope', '--runs', runs]);
    expect([status.code, status.stderr]).toEqual([2, expect.stringContaining(`no run "nope" in ${runs}`)]);
    const trigger = await paddock(['trigger', '--data', runs, '--nats', 'nats://127.0.0.1:1']);
    expect(trigger.code).toBe(2);
    expect(trigger.stderr).toMatch(/^paddock: cannot reach NATS at nats:\/\/127.0.0.1:1 .*nats-server -js/);
  }, 60_000);

  it('setup-cuda refuses a path that does not exist with exit 2', async () => {
    const r = await paddock(['setup-cuda', '/nonexistent/provider.tgz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/provider.tgz does not exist');
  }, 30_000);
});
