// Public API of the ingestion stage: ingest(spec) turns a Kaggle-layout image folder into a
// DatasetManifest; writeManifest stores it. The service and the CLI wrap these functions.
export { ingest, DEFAULT_MAX_PIXELS, DEFAULT_NEAR_DUPLICATE_DISTANCE, DEFAULT_SEED, DEFAULT_VALID_PCT, type IngestSpec } from './ingest.ts';
export { writeManifest, type WrittenManifest } from './write.ts';
export { DatasetError } from './errors.ts';
export { randomSplit } from './split.ts';
export { IMAGE_EXTENSIONS, sniffFormat, type ImageFormat } from './sniff.ts';
export { Vocab, parentLabel, csvLabels } from '@paddock/labels';
export { nearDuplicateGroups, duplicateGroups, labelStats, type NearDuplicateGroup } from './audit.ts';
