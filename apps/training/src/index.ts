// The training stage: train(spec) fits a Learner on augmented batches and exports model.onnx.
export { train, type TrainSpec, type Trained, type TrainingRecipe } from './train.ts';
