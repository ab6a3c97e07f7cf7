// Reverse-mode differentiation of ONNX graphs into standard ONNX ops, the training form of a
// model (BatchNorm on batch statistics, running-stat updates), and training-step graphs.
export { differentiate, differentiableOps, type DifferentiateOptions } from './differentiate.ts';
export { defineGrad, type GradContext, type GradRule } from './rule.ts';
export { toTrainingForm, lower, dropoutMask, type DropoutMask, type RunningStat, type TrainingForm, type TrainingFormOptions } from './training-form.ts';
export { reductionAxes } from './batchnorm.ts';
export { toMixedPrecision, float32Values, type MixedPrecision } from './mixed-precision.ts';
export { scaleGradients, type GradScalingOptions, type ScaledGradients } from './grad-scaling.ts';
export { buildTrainStep, trainableInitializers, type TrainStep, type TrainStepOptions } from './train-step.ts';
export { batchNormParameters, freezePredicate, noWeightDecayParameters } from './freeze.ts';
export { adamwFeeds, sgdFeeds, emitUpdate, hyperInputs, stateNames, type AdamHyper, type SgdHyper, type OptimizerKind } from './optimizers.ts';
