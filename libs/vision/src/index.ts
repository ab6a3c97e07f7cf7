// @paddock/vision: fastai's item transforms (decode rules, Resize presize with PIL's resample)
// and batch transforms (aug_transforms drawn in JS, applied by one ONNX graph per batch that
// resamples each image once).
export { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError, type DecodeOptions, type RgbImage } from './decode.ts';
export { decodeBmp, isBmp, readBmpHeader, BmpError, type BmpHeader } from './bmp.ts';
export { dHash, hammingDistance, DHASH_MIN_CONTRAST } from './dhash.ts';
export { presize, positionPcts, resizeWindow, cropPad, resizeRaw, sizeHW, type PresizeSpec, type Position, type ResizeMethod, type PadMode, type Window } from './presize.ts';
export { presizeThreads, type PresizeThreads } from './presize-threads.ts';
export {
  augTransforms,
  drawAugmentParams,
  validParams,
  drawImage,
  composeTheta,
  warpMatrix,
  neutralDraw,
  paramsFromDraws,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type AugmentOptions,
  type AugmentSpec,
  type AugmentParams,
  type ImageDraw,
  type ImageSize,
} from './augment-params.ts';
export { buildAugmentGraph, buildNormalizeGraph, baseGrid, DEFAULT_SAMPLER, type AugmentGraphSizes, type AugmentGraphOptions, type Sampler } from './augment-graph.ts';
export { BatchAugmenter, type AugmenterSizes, type AugmenterOptions } from './augmenter.ts';
