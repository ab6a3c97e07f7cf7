// @paddock/evaluation: scores a trained model on the validation split — metrics, confusion
// matrix, most-confused pairs and TTA blending; the stage's service and handler wrap these.
export * from './metrics.ts';
