// The training stage: presize the labelled items, stream augmented batches into a Learner, run the
// recipe's plan (fit_one_cycle by default; fine_tune, freeze/unfreeze, lr_find steps), checkpoint
// every epoch (atomically) so a killed run resumes exactly, write metrics.csv, loss.png, the
// lr_find pictures, and export the inference model.onnx with its metadata.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { stringify } from 'csv-stringify/sync';
import { EpochMetricsSchema, Split, type DatasetManifest, type EpochMetrics } from '@paddock/contracts';
import {
  EarlyStopping, Learner, SaveModel, accuracy, architectures, importClassifier, parameterGroup, decodeCheckpoint, encodeCheckpoint, errorRate, exportInference, formatSuggestions, plotLrFind, resnet, silentProgress, topKAccuracy,
  type Callback, type EpochRecord, type LrFindOptions, type LrFindResult, type Metric, type PlanStep, type ProgressSink,
} from '@paddock/learner';
import { encodeModel, type Model } from '@paddock/onnx';
import { writeFileAtomic, writeJsonAtomic } from '@paddock/store';
import type { Device } from '@paddock/runtime';
import { augTransforms, sizeHW, type AugmentOptions, type PresizeSpec } from '@paddock/vision';
import { loadersFor, type BatchSource } from './batch-source.ts';

export interface TrainingRecipe {
  arch: string;
  /** Used when `schedule` is absent: fit_one_cycle(epochs, lrMax, …). */
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
  /** The plan: fit / fitOneCycle / fineTune / freeze / unfreeze / lrFind steps, in order. */
  schedule?: PlanStep[];
  /** Metric names: error_rate, accuracy, top_k_accuracy (k = 5) or top_<k>_accuracy. Default [error_rate]. */
  metrics?: string[];
  earlyStopping?: { monitor?: string; patience?: number; minDelta?: number };
  /** Keep the best epoch by `monitor` (best-model.onnx) and reload it at the end of each fit. */
  saveModel?: { monitor?: string; minDelta?: number };
  /** fastai GradientClip(max_norm): clip the global gradient norm before each step. */
  gradClip?: number;
  /** fastai to_fp16: float16 forward/backward on float32 master weights with dynamic loss scaling. Refused on
   *  device cpu: ORT's CPU provider runs float16 nodes through float32 casts (no speed-up, float32 numerics). */
  fp16?: boolean;
  /** An ONNX image classifier to fine-tune (cut at its global pool, fastai head attached) instead of `arch`. */
  pretrained?: string;
}

export interface TrainSpec {
  manifest: DatasetManifest;
  training: TrainingRecipe;
  presize: PresizeSpec;
  augment: AugmentOptions;
  outDir: string;
  /** Continue from outDir/checkpoint.bin (written by an earlier, killed run of the same recipe). */
  resume?: boolean;
  /** Write outDir/checkpoint.bin after every epoch (default true). */
  checkpoint?: boolean;
  /** Extra Learner callbacks (run after the checkpoint is written). */
  callbacks?: Callback[];
  progress?: ProgressSink;
  /** Stage messages (presizing progress, device notices, lr_find suggestions). */
  log?: (message: string) => void;
  onEpochEnd?: (record: EpochRecord) => void | Promise<void>;
  /** Where batches come from: augmented here (default) or streamed from augment workers. */
  batchSource?: BatchSource;
  /** Decompression-bomb guard for presizing (default: the vision lib's pixel limit). */
  maxPixels?: number;
  /** Presize cache folder (default env PADDOCK_PRESIZE_CACHE; none when unset). */
  presizeCache?: string;
}

export interface Trained {
  modelPath: string;
  metricsPath: string;
  lossPlotPath: string;
  checkpointPath: string;
  lrFindPaths: string[];
  history: EpochMetrics[];
  device: 'cpu' | 'cuda';
}

export class TrainingError extends Error {
  readonly exitCode = 2;
}

/** The plan a recipe asks for: its schedule, or fit_one_cycle(epochs, lrMax, …). */
export function planOf(training: TrainingRecipe): PlanStep[] {
  if (!training.schedule && training.pretrained) return [{ fineTune: { epochs: training.epochs, baseLr: training.lrMax } }];
  return training.schedule ?? [{ fitOneCycle: { epochs: training.epochs, lrMax: training.lrMax, pctStart: training.pctStart, div: training.div, divFinal: training.divFinal, moms: training.moms } }];
}

export function metricsOf(names: string[] = ['error_rate']): Metric[] {
  return names.map((name) => {
    if (name === 'error_rate') return errorRate;
    if (name === 'accuracy') return accuracy;
    if (name === 'top_k_accuracy') return topKAccuracy(5);
    const k = /^top_(\d+)_accuracy$/.exec(name);
    if (k) return topKAccuracy(Number(k[1]));
    throw new TrainingError(`training.metrics: unknown metric "${name}"; choose error_rate, accuracy, top_k_accuracy or top_<k>_accuracy`);
  });
}

/** What train() and findLr() share: presized data, augmenters, a Learner, and the writers. */
async function setup(spec: TrainSpec, extraCallbacks: (learner: () => Learner) => Callback[]) {
  const { manifest, training } = spec;
  const log = spec.log ?? (() => {});
  const arch = architectures[training.arch];
  if (!arch) throw new TrainingError(`training.arch "${training.arch}" is unknown; choose one of ${Object.keys(architectures).join(', ')}`);
  const metrics = metricsOf(training.metrics);
  if (training.fp16 && training.device === 'cpu') throw new TrainingError('training.fp16: mixed precision needs the CUDA execution provider (on CPU it only adds casts); set training.device to cuda or drop fp16');
  const checkpointPath = join(spec.outDir, 'checkpoint.bin');
  const meta = { format: 'paddock.training/1', training, presize: spec.presize, augment: spec.augment, vocab: manifest.vocab };
  let resumeFrom: ReturnType<typeof decodeCheckpoint> | undefined;
  if (spec.resume) {
    if (!existsSync(checkpointPath)) throw new TrainingError(`${checkpointPath}: no checkpoint to resume from; run without --resume first`);
    resumeFrom = decodeCheckpoint(readFileSync(checkpointPath), checkpointPath);
    if (JSON.stringify(resumeFrom.meta) !== JSON.stringify(meta)) throw new TrainingError(`${checkpointPath}: written by a different recipe or dataset; resume with the run's own recipe.json, or start a new run`);
  }
  const trainCount = manifest.items.filter((i) => i.split === Split.TRAIN).length;
  if (trainCount < training.batchSize) throw new TrainingError(`only ${trainCount} training images for batch size ${training.batchSize}; lower training.batchSize`);
  const augmentSpec = augTransforms(spec.augment);
  const [outH, outW] = augmentSpec.size;
  const [preH, preW] = sizeHW(spec.presize.size);
  const loaders = await loadersFor(spec.batchSource ?? { kind: 'local' }, {
    manifest,
    presize: spec.presize,
    augment: spec.augment,
    batchSize: training.batchSize,
    seed: training.seed,
    device: training.device,
    threads: training.threads,
    maxPixels: spec.maxPixels,
    presizeCache: spec.presizeCache ?? process.env.PADDOCK_PRESIZE_CACHE,
    log,
  });
  const dls = loaders.dls;

  const exportInfo = (extra: Record<string, unknown> = {}) => ({
    vocab: manifest.vocab,
    mean: [...augmentSpec.mean],
    std: [...augmentSpec.std],
    height: outH,
    width: outW,
    extra: { presize: { method: spec.presize.method ?? 'crop', padMode: spec.presize.padMode ?? 'reflection', size: [preH, preW] }, augment: augmentSpec, training, ...extra },
  });
  const writeModel = (path: string, model: Model, extra?: Record<string, unknown>) => {
    writeFileAtomic(path, encodeModel(exportInference(model, exportInfo(extra))));
  };

  let learner: Learner;
  const callbacks: Callback[] = extraCallbacks(() => learner);
  if (training.earlyStopping) callbacks.push(new EarlyStopping(training.earlyStopping));
  if (training.saveModel) callbacks.push(new SaveModel((model, r) => writeModel(join(spec.outDir, 'best-model.onnx'), model, { bestEpoch: r.epoch }), training.saveModel));
  callbacks.push(...(spec.callbacks ?? []).map((cb) => ({ order: 100, ...cb })));

  const { model, paramGroups } = buildModel(training, manifest.vocab.length, outH, outW);
  learner = await Learner.create(model, dls, { paramGroups, wd: training.wd, gradClip: training.gradClip, fp16: training.fp16, seed: training.seed, device: loaders.device ?? training.device, threads: training.threads, metrics, callbacks, progress: spec.progress ?? silentProgress, onNotice: log, onEpochEnd: spec.onEpochEnd });
  const release = () => Promise.all([loaders.release(), learner.engine.release()]);
  return { learner, release, writeModel, metrics, meta, checkpointPath, resumeFrom, log, device: learner.engine.device };
}

/** Paddock's own architecture from scratch, or an imported pretrained body with fastai's head. */
function buildModel(training: TrainingRecipe, classes: number, height: number, width: number): { model: Model; paramGroups?: (name: string) => string } {
  if (!training.pretrained) {
    return { model: resnet({ ...architectures[training.arch], classes, seed: training.seed }, { channels: 3, height, width }) };
  }
  if (!existsSync(training.pretrained)) throw new TrainingError(`${training.pretrained}: no such model file (training.pretrained / --pretrained)`);
  const imported = importClassifier(training.pretrained, { classes, seed: training.seed });
  const [, , h, w] = imported.model.graph.inputs[0].shape;
  if (h !== height || w !== width) {
    throw new TrainingError(`${training.pretrained}: the model takes ${h}×${w} images but augment.size is ${height}×${width}; set --size ${h === w ? h : `[${h}, ${w}]`} (and a presize at least that large)`);
  }
  return { model: imported.model, paramGroups: parameterGroup };
}

export async function train(spec: TrainSpec): Promise<Trained> {
  const checkpointing = spec.checkpoint ?? true;
  const { learner, release, writeModel, metrics, meta, checkpointPath, resumeFrom, log, device } = await setup(spec, (learner) =>
    checkpointing ? [{ order: 90, afterEpoch: () => writeFileAtomic(checkpointPath, encodeCheckpoint(learner().checkpoint(), meta)) }] : [],
  );
  const training = spec.training;
  const lrFindPaths: string[] = [];
  try {
    if (resumeFrom) {
      await learner.loadCheckpoint(resumeFrom.checkpoint);
      log(`resume: from plan step ${resumeFrom.checkpoint.position.step}, epoch ${resumeFrom.checkpoint.position.epoch} (${learner.recorder.epochs.length} epochs done)`);
    }
    const onLrFind = async (r: LrFindResult, step: number) => {
      const base = join(spec.outDir, `lr-find-${step}`);
      writeFileAtomic(`${base}.png`, (await plotLrFind(r)).png);
      writeJsonAtomic(`${base}.json`, lrFindJson(r));
      lrFindPaths.push(`${base}.png`);
      log(`lr_find (step ${step}):\n${formatSuggestions(r.suggestions)}`);
    };
    await learner.runPlan(planOf(training), { from: resumeFrom?.checkpoint.position, onLrFind });
  } catch (error) {
    await release();
    throw error;
  }

  const records = learner.recorder.epochs;
  mkdirSync(spec.outDir, { recursive: true });
  const metricsPath = join(spec.outDir, 'metrics.csv');
  const names = metrics.map((m) => m.name).filter((n) => n !== 'error_rate' && n !== 'accuracy');
  const csv = stringify(
    records.map((r) => [r.epoch, r.trainLoss, r.validLoss, r.errorRate, r.accuracy, ...names.map((n) => r.metrics[n]), r.seconds.toFixed(2), r.imagesPerSecond.toFixed(1)]),
    { header: true, columns: ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'accuracy', ...names, 'time_s', 'images_per_s'] },
  );
  writeFileAtomic(metricsPath, csv);
  const lossPlotPath = join(spec.outDir, 'loss.png');
  writeFileAtomic(lossPlotPath, (await learner.recorder.plotLoss()).png);
  const modelPath = join(spec.outDir, 'model.onnx');
  writeModel(modelPath, learner.trainedModel());
  await release();
  return {
    modelPath,
    metricsPath,
    lossPlotPath,
    checkpointPath,
    lrFindPaths,
    device,
    history: records.map((r) => create(EpochMetricsSchema, { epoch: r.epoch, trainLoss: r.trainLoss, validLoss: r.validLoss, errorRate: r.errorRate, accuracy: r.accuracy, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond })),
  };
}

export interface LrFound {
  result: LrFindResult;
  plotPath: string;
  jsonPath: string;
}

/**
 * lr_find on the recipe's model and data, as a stage of its own (`paddock lr-find`): the steps of
 * the recipe's schedule before its first lrFind step are not run; `unfreeze` sweeps the whole
 * model, otherwise the model is as created (all groups train, as a fresh fastai Learner).
 */
export async function findLr(spec: TrainSpec & { lrFind?: LrFindOptions; frozen?: boolean }): Promise<LrFound> {
  const { learner, release, log } = await setup(spec, () => []);
  try {
    if (spec.frozen) await learner.freeze();
    const result = await learner.lrFind(spec.lrFind);
    const plotPath = join(spec.outDir, 'lr-find.png');
    const jsonPath = join(spec.outDir, 'lr-find.json');
    writeFileAtomic(plotPath, (await plotLrFind(result)).png);
    writeJsonAtomic(jsonPath, lrFindJson(result));
    log(`lr_find:\n${formatSuggestions(result.suggestions)}`);
    return { result, plotPath, jsonPath };
  } finally {
    await release();
  }
}

export function lrFindJson(r: LrFindResult) {
  return { lrs: r.lrs, losses: r.losses, numIt: r.numIt, diverged: r.diverged, suggestions: Object.fromEntries(Object.entries(r.suggestions).map(([k, v]) => [k, v.lr])) };
}
