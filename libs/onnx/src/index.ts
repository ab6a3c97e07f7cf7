// ONNX IR for Paddock: load/save (protobuf), a graph builder, static shape inference.
export * from './ir.ts';
export { decodeModel, encodeModel, loadModel, saveModel, onnxDataType, dtypeFromOnnx } from './codec.ts';
export { GraphBuilder, float, floats, ints, toAttr, type AttrInput, type OpOptions } from './builder.ts';
export { foldConstants } from './fold.ts';
export { toOpset17 } from './opset.ts';
export { inferShapes, analyseGraph, sliceGeometry, splitSizes, type GraphAnalysis, broadcastShapes, convGeometry, poolGeometry, registerShapeRule, hasShapeRule, UnsupportedOpError, type ValueType } from './shapes.ts';
