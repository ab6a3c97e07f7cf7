// @paddock/augment: the presize + batch-augmentation stage as library functions (the gRPC service
// and event handler wrap these): presize a list of files (through an optional on-disk cache), then
// stream augmented batches per epoch. The vision pieces the CLI's inspection commands need are
// re-exported, so the CLI depends on this stage rather than on the library beneath it.
export { presizeItems, type PresizeItemsOptions } from './presize-items.ts';
export { PresizeCache, defaultPresizeCacheDir } from './presize-cache.ts';
export { batches, batchOrder, augmentRandom, type Batch, type BatchOptions, type BatchOrderOptions } from './batches.ts';
export {
  BatchAugmenter,
  ImageDecodeError,
  augTransforms,
  decodeImage,
  drawAugmentParams,
  presize,
  sizeHW,
  validParams,
  type AugmentOptions,
  type AugmentSpec,
  type PresizeSpec,
  type RgbImage,
} from '@paddock/vision';
export { augmentedSamples, denormalise, walkItem, type Sample, type SampleRequest, type Step } from './inspect.ts';
