// onnxruntime sessions for every stage: the execution-provider choice (explicit, with a clear
// fallback), thread settings, and conversions between Paddock tensors and ORT tensors.
export { createSession, resolveDevice, type Device, type SessionOptions, type Session } from './session.ts';
export { toOrt, fromOrt } from './convert.ts';
export { checkProviders, requireDevice, onnxruntimeInstall, PROVIDER_RECORD, type ProviderCheck, type ProviderName, type ProvidersReport } from './providers.ts';
export { setupCudaProviders, CudaSetupError, type CudaSetupOptions, type CudaSetupResult } from './cuda-setup.ts';
