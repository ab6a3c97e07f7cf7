// The Learner and what it is built from: architectures, initialisation, schedules, the training
// engine runner, recorder, progress, metrics and the inference export.
export { Learner, type Batch, type DataLoaders, type LearnerOptions } from './learner.ts';
export { TrainingEngine, withWeightsAsInputs, type EngineOptions } from './engine.ts';
export { resnet, architectures, type ResNetConfig } from './arch/resnet.ts';
export { oneCycle, schedCos, combine, oneCycleDefaults, type Schedule, type OneCycleOptions } from './schedule.ts';
export { Recorder, type EpochRecord } from './recorder.ts';
export { consoleProgress, silentProgress, formatEpochRow, formatHeader, type ProgressSink } from './progress.ts';
export { argmaxRows, crossEntropySum, softmaxRows } from './metrics.ts';
export { exportInference, inferenceInput, inferenceOutput, type ExportInfo } from './export.ts';
export { kaimingNormal, linearUniform } from './init.ts';
export { Predictor, type FilePredictions, type PredictOptions } from './inference.ts';
