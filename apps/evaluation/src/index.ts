// The evaluation stage: evaluate(spec) predicts the validation split with an exported model and
// writes evaluation.json and the confusion-matrix pictures; metrics are pure functions.
export * from './metrics.ts';
export { evaluate, type EvaluateSpec, type Evaluation } from './evaluate.ts';
