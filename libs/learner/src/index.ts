// The Learner and what it is built from: architectures, initialisation, schedules, the training
// engine runner, recorder, progress, metrics, callbacks, lr_find, checkpoints and the inference export.
export { Learner, resnetParamGroups, fineTuneSteps, expandPlan, fineTuneDefaults, type Batch, type DataLoaders, type LearnerOptions, type FineTuneOptions, type LrFindOptions, type PlanStep, type PlanPosition, type PlanResult, type LearnerCheckpoint, type ParamGroups } from './learner.ts';
export { TrainingEngine, withWeightsAsInputs, type BatchResult, type EngineOptions, type EngineSnapshot } from './engine.ts';
export { DynamicLossScaler, type LossScalerState, type LossScalingOptions } from './loss-scale.ts';
export { resnet, architectures, type ResNetConfig } from './arch/resnet.ts';
export { oneCycle, oneCycleGroups, schedCos, schedExp, schedNo, combine, oneCycleDefaults, slice, lrRange, evenMults, type Schedule, type OneCycleOptions, type LrSlice, type LrSpec, type GroupSchedule } from './schedule.ts';
export { Recorder, type EpochRecord, type RecorderState } from './recorder.ts';
export { consoleProgress, silentProgress, formatEpochRow, formatHeader, type ProgressSink } from './progress.ts';
export { argmaxRows, crossEntropySum, softmaxRows, accuracy, errorRate, topKAccuracy, metric, type Metric } from './metrics.ts';
export { CancelBatchException, CancelFitException, GradientClip, EarlyStopping, SaveModel, CSVLogger, Tracker, afterEpoch, monitored, type Callback, type CallbackContext, type TrackerOptions } from './callbacks.ts';
export { suggest, suggestionPoints, minimum, steep, valley, slide, plotLrFind, formatSuggestions, type LrFindResult, type LrSuggestions, type Suggestion } from './lr-find.ts';
export { encodeCheckpoint, decodeCheckpoint, CheckpointError } from './checkpoint.ts';
export { exportInference, inferenceInput, inferenceOutput, type ExportInfo } from './export.ts';
export { kaimingNormal, linearUniform } from './init.ts';
export { Predictor, blendTta, floatInputModel, type FilePredictions, type PredictOptions, type AugmentedPredictOptions, type AugmentedPredictions } from './inference.ts';
export { importClassifier, importClassifierModel, findCut, parameterGroup, groupsByPattern, HEAD_PREFIX, type ImportOptions, type ImportedClassifier } from './arch/import.ts';
