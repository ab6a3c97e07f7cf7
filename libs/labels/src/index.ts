// Public API of @paddock/labels: the Vocab (sorted class names with stable ids) and the label
// sources (parent folder, CSV column) that feed it. Depends on no other Paddock package.
export { Vocab } from './vocab.ts';
export { parentLabel, csvLabels, readCsv, LabelSourceError, type CsvRow, type CsvLabelOptions } from './sources.ts';
export { compareCodepoints } from './order.ts';
