// Where the module's static data ends: src/pixels-wasm.ts lays its regions out from here.
export function heapBase(): usize {
  return __heap_base;
}
