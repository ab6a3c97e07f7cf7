// @paddock/report: the pictures and tables people look at — confusion matrix, loss and lr-find
// curves, image grids (SVG rendered to PNG with sharp) and fastai-style fixed-width epoch tables.
// Stands alone: it imports no other @paddock package, callers pass plain arrays in.
export * from './svg.ts';
export * from './ticks.ts';
export * from './colors.ts';
export * from './confusion-matrix.ts';
export * from './line-plot.ts';
export * from './image-grid.ts';
export * from './table.ts';
export * from './bar-chart.ts';
export * from './html.ts';
