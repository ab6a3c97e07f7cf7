// The training stage: train(spec) runs a Learner's plan on augmented batches, checkpoints, and exports model.onnx.
export { train, findLr, lrFindJson, planOf, metricsOf, TrainingError, type LrFound, type TrainSpec, type Trained, type TrainingRecipe } from './train.ts';
