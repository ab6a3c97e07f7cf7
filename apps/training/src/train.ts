// The training stage: presize the labelled items, stream augmented batches into a Learner
// (fit_one_cycle), write metrics.csv, and export the inference model.onnx with its metadata.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { stringify } from 'csv-stringify/sync';
import { batches, presizeItems } from '@paddock/augment';
import { EpochMetricsSchema, Split, type DatasetManifest, type EpochMetrics } from '@paddock/contracts';
import { Learner, architectures, exportInference, resnet, silentProgress, type DataLoaders, type EpochRecord, type ProgressSink } from '@paddock/learner';
import { saveModel } from '@paddock/onnx';
import { writeFileAtomic } from '@paddock/store';
import type { Device } from '@paddock/runtime';
import { Random } from '@paddock/tensor';
import { BatchAugmenter, augTransforms, sizeHW, type AugmentOptions, type PresizeSpec } from '@paddock/vision';

export interface TrainingRecipe {
  arch: string;
  epochs: number;
  batchSize: number;
  lrMax: number;
  wd: number;
  pctStart: number;
  div: number;
  divFinal: number;
  moms: [number, number, number];
  seed: number;
  device: Device;
  threads?: number;
}

export interface TrainSpec {
  manifest: DatasetManifest;
  training: TrainingRecipe;
  presize: PresizeSpec;
  augment: AugmentOptions;
  outDir: string;
  progress?: ProgressSink;
  /** Stage messages (presizing progress, device notices). */
  log?: (message: string) => void;
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
}

export interface Trained {
  modelPath: string;
  metricsPath: string;
  history: EpochMetrics[];
  device: 'cpu' | 'cuda';
}

export async function train(spec: TrainSpec): Promise<Trained> {
  const { manifest, training } = spec;
  const log = spec.log ?? (() => {});
  const arch = architectures[training.arch];
  if (!arch) throw new RangeError(`training.arch "${training.arch}" is unknown; choose one of ${Object.keys(architectures).join(', ')}`);
  const trainItems = manifest.items.filter((i) => i.split === Split.TRAIN);
  const validItems = manifest.items.filter((i) => i.split === Split.VALID);
  if (trainItems.length < training.batchSize) throw new RangeError(`only ${trainItems.length} training images for batch size ${training.batchSize}; lower training.batchSize`);
  const augmentSpec = augTransforms(spec.augment);
  const [outH, outW] = augmentSpec.size;
  const [preH, preW] = sizeHW(spec.presize.size);
  const pathOf = (p: string) => resolve(manifest.dataDir, p);

  // Presize once: squish is deterministic; crop/pad positions are drawn once per item from the seed.
  const position = (spec.presize.method ?? 'crop') === 'squish' ? 'centre' : new Random(training.seed).fork('presize');
  let last = 0;
  const report = (what: string) => (done: number, total: number) => {
    if (done === total || done - last >= 200) {
      last = done;
      log(`presize ${what}: ${done}/${total} images`);
    }
  };
  const trainPixels = await presizeItems(trainItems.map((i) => pathOf(i.path)), spec.presize, position, { onProgress: report('train') });
  // Validation is presized straight to the model's size, centred: what model.onnx users do too.
  last = 0;
  const validPixels = await presizeItems(validItems.map((i) => pathOf(i.path)), { ...spec.presize, size: [outH, outW] }, 'centre', { onProgress: report('valid') });

  const device = training.device;
  const trainAug = await BatchAugmenter.create(augmentSpec, { inputHeight: preH, inputWidth: preW }, device, { threads: training.threads, onNotice: log });
  const validAug = await BatchAugmenter.create(augmentSpec, { inputHeight: outH, inputWidth: outW }, trainAug.device, { threads: training.threads });
  const trainLabels = Int32Array.from(trainItems, (i) => i.labelId);
  const validLabels = Int32Array.from(validItems, (i) => i.labelId);
  const dls: DataLoaders = {
    batchSize: training.batchSize,
    classes: manifest.vocab.length,
    trainBatches: Math.floor(trainItems.length / training.batchSize),
    train: (epoch) => batches({ images: trainPixels, labels: trainLabels, batchSize: training.batchSize, shuffle: true, dropLast: true, epoch, seed: training.seed, augmenter: trainAug, spec: augmentSpec, augment: true }),
    valid: () => batches({ images: validPixels, labels: validLabels, batchSize: training.batchSize * 2, shuffle: false, dropLast: false, epoch: 0, seed: training.seed, augmenter: validAug, spec: augmentSpec, augment: false }),
  };

  const model = resnet({ ...arch, classes: manifest.vocab.length, seed: training.seed }, { channels: 3, height: outH, width: outW });
  const learner = await Learner.create(model, dls, { wd: training.wd, device: trainAug.device, threads: training.threads, progress: spec.progress ?? silentProgress, onNotice: log, onEpochEnd: spec.onEpochEnd });
  const records = await learner.fitOneCycle(training.epochs, training.lrMax, { pctStart: training.pctStart, div: training.div, divFinal: training.divFinal, moms: training.moms });

  mkdirSync(spec.outDir, { recursive: true });
  const metricsPath = join(spec.outDir, 'metrics.csv');
  const csv = stringify(
    records.map((r) => [r.epoch, r.trainLoss, r.validLoss, r.errorRate, r.accuracy, r.seconds.toFixed(2), r.imagesPerSecond.toFixed(1)]),
    { header: true, columns: ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'accuracy', 'time_s', 'images_per_s'] },
  );
  writeFileAtomic(metricsPath, csv);
  const exported = exportInference(learner.trainedModel(), {
    vocab: manifest.vocab,
    mean: [...augmentSpec.mean],
    std: [...augmentSpec.std],
    height: outH,
    width: outW,
    extra: { presize: { method: spec.presize.method ?? 'crop', padMode: spec.presize.padMode ?? 'reflection', size: [preH, preW] }, augment: augmentSpec, training },
  });
  const modelPath = join(spec.outDir, 'model.onnx');
  saveModel(modelPath, exported);
  await Promise.all([trainAug.release(), validAug.release(), learner.engine.release()]);
  return {
    modelPath,
    metricsPath,
    device: trainAug.device,
    history: records.map((r) => create(EpochMetricsSchema, { epoch: r.epoch, trainLoss: r.trainLoss, validLoss: r.validLoss, errorRate: r.errorRate, accuracy: r.accuracy, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond })),
  };
}
