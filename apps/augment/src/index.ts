// @paddock/augment: the presize + batch-augmentation stage as library functions (the gRPC service
// and event handler wrap these): presize a list of files, then stream augmented batches per epoch.
export { presizeItems, type PresizeItemsOptions } from './presize-items.ts';
export { batches, batchOrder, augmentRandom, type Batch, type BatchOptions, type BatchOrderOptions } from './batches.ts';
