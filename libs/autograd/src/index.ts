// Reverse-mode differentiation of ONNX graphs into standard ONNX ops, the training form of a
// model (BatchNorm on batch statistics, running-stat updates), and training-step graphs.
export { differentiate, differentiableOps, type DifferentiateOptions } from './differentiate.ts';
export { defineGrad, type GradContext, type GradRule } from './rule.ts';
export { toTrainingForm, lower, type RunningStat, type TrainingForm } from './training-form.ts';
export { reductionAxes } from './batchnorm.ts';
export { buildTrainStep, trainableInitializers, type TrainStep, type TrainStepOptions } from './train-step.ts';
export { adamwFeeds, sgdFeeds, emitUpdate, hyperInputs, stateNames, type AdamHyper, type SgdHyper, type OptimizerKind } from './optimizers.ts';
