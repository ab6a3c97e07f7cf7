// Which onnxruntime execution providers load here, and why one does not. onnxruntime-node bundles
// the CPU provider; the CUDA and TensorRT providers are separate shared libraries that must sit
// next to onnxruntime-node's core library, come from the SAME onnxruntime version, and find
// libcudart/libcublas/cuDNN (and TensorRT's libnvinfer) on the system at load time.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, encodeModel } from '@paddock/onnx';

export type ProviderName = 'cpu' | 'cuda' | 'tensorrt';

export interface ProviderCheck {
  provider: ProviderName;
  /** A session on this provider was created and ran a graph. */
  loads: boolean;
  /** What was found, or why it does not load. */
  detail: string;
  /** What to do about it (absent when it loads). */
  fix?: string;
}

export interface ProvidersReport {
  onnxruntimeVersion: string;
  /** Where onnxruntime-node's core library is, i.e. where provider libraries must go. */
  libraryDir: string;
  /** The provider libraries' onnxruntime version, as recorded by setupCudaProviders. */
  installedProviders?: { onnxruntimeVersion: string; source: string };
  /** NVIDIA kernel driver version, when one is loaded. */
  driver?: string;
  providers: ProviderCheck[];
}

/** File written next to the provider libraries by setupCudaProviders. */
export const PROVIDER_RECORD = 'paddock-cuda-providers.json';

const providerLibrary: Record<Exclude<ProviderName, 'cpu'>, string> = {
  cuda: 'libonnxruntime_providers_cuda.so',
  tensorrt: 'libonnxruntime_providers_tensorrt.so',
};

const require = createRequire(import.meta.url);

export function onnxruntimeInstall(): { version: string; libraryDir: string } {
  const pkgPath = require.resolve('onnxruntime-node/package.json');
  const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  return { version, libraryDir: join(dirname(pkgPath), 'bin', 'napi-v6', process.platform, process.arch) };
}

function probeModel(): Uint8Array {
  const b = new GraphBuilder('probe');
  const x = b.input('x', 'float32', [2]);
  b.opN('Add', [x, x], {}, { outputs: ['y'] });
  b.output('y', 'float32', [2]);
  return encodeModel(b.build());
}

/** Create a session on one provider and run 1+1; the error's first line when it fails. */
async function tryProvider(provider: ProviderName): Promise<string | undefined> {
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [provider], logSeverityLevel: 4 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2), [2]) });
    await session.release();
    const y = out.y.data as Float32Array;
    return y[0] === 2 && y[1] === 4 ? undefined : `ran but computed ${Array.from(y)} for 2·[1, 2]`;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0];
  }
}

/** Shared libraries a library needs that the dynamic loader cannot find (ldd's "not found"). */
async function missingLibraries(path: string): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('ldd', [path], { env: process.env });
    return stdout.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim().split(/\s+/)[0]);
  } catch (error) {
    return [`(ldd failed: ${(error as Error).message.split('\n')[0]})`];
  }
}

function nvidiaDriver(): string | undefined {
  const path = '/proc/driver/nvidia/version';
  if (!existsSync(path)) return undefined;
  return /Kernel Module\s+([\d.]+)/.exec(readFileSync(path, 'utf8'))?.[1] ?? 'loaded';
}

function installedRecord(libraryDir: string): ProvidersReport['installedProviders'] {
  const path = join(libraryDir, PROVIDER_RECORD);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ProvidersReport['installedProviders']) : undefined;
}

const setupHint = 'install them with `paddock setup-cuda <provider package>` (see README, "GPU (CUDA), optional")';

async function checkGpuProvider(provider: Exclude<ProviderName, 'cpu'>, report: Omit<ProvidersReport, 'providers'>): Promise<ProviderCheck> {
  const lib = join(report.libraryDir, providerLibrary[provider]);
  if (process.platform !== 'linux' || process.arch !== 'x64') return { provider, loads: false, detail: `Paddock's ${provider} setup covers linux-x64 only (this is ${process.platform}-${process.arch})`, fix: 'use --device cpu' };
  if (!existsSync(lib)) return { provider, loads: false, detail: `${providerLibrary[provider]} is not installed in ${report.libraryDir}`, fix: setupHint };
  const recorded = report.installedProviders?.onnxruntimeVersion;
  if (recorded && recorded !== report.onnxruntimeVersion) {
    return { provider, loads: false, detail: `the provider libraries are from onnxruntime ${recorded}, the core is ${report.onnxruntimeVersion}; a provider only loads into the core of its own version`, fix: `install onnxruntime-node@${recorded}, or provider libraries built for ${report.onnxruntimeVersion}` };
  }
  const missing = await missingLibraries(lib);
  if (missing.length) {
    const wants = provider === 'tensorrt' ? 'TensorRT 10 (libnvinfer, libnvonnxparser), the CUDA runtime and cuBLAS, cuDNN 9' : 'the CUDA runtime and cuBLAS (libcudart, libcublas, libcublasLt) and cuDNN 9';
    const driver = missing.includes('libcuda.so.1') ? '; libcuda.so.1 comes with the NVIDIA driver' : '';
    return { provider, loads: false, detail: `the dynamic loader cannot find ${missing.join(', ')} (needed by ${providerLibrary[provider]})`, fix: `install ${wants} for the CUDA major version in those names, or add their folder to LD_LIBRARY_PATH${driver}` };
  }
  if (!report.driver) return { provider, loads: false, detail: 'no NVIDIA kernel driver is loaded (/proc/driver/nvidia/version is absent)', fix: 'run on a machine with an NVIDIA GPU and its driver, or use --device cpu' };
  const failure = await tryProvider(provider);
  return failure ? { provider, loads: false, detail: `onnxruntime could not start it: ${failure}`, fix: 'check the driver supports the CUDA version of the libraries above (nvidia-smi), or use --device cpu' } : { provider, loads: true, detail: `ran a graph (driver ${report.driver})` };
}

/** The installation facts every provider check reads. */
function installFacts(): Omit<ProvidersReport, 'providers'> {
  const { version, libraryDir } = onnxruntimeInstall();
  return { onnxruntimeVersion: version, libraryDir, installedProviders: installedRecord(libraryDir), driver: nvidiaDriver() };
}

/** What `paddock doctor` prints: every provider, whether it loads, why not, and the fix. */
export async function checkProviders(): Promise<ProvidersReport> {
  const base = installFacts();
  const cpuFailure = await tryProvider('cpu');
  const cpu: ProviderCheck = cpuFailure ? { provider: 'cpu', loads: false, detail: cpuFailure, fix: 'reinstall onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=skip npm ci)' } : { provider: 'cpu', loads: true, detail: 'bundled with onnxruntime-node; ran a graph' };
  return { ...base, providers: [cpu, await checkGpuProvider('cuda', base), await checkGpuProvider('tensorrt', base)] };
}

/** Fail before any work, in Paddock's words (exit 2), when `device: cuda` cannot load here. */
export async function requireDevice(device: string): Promise<void> {
  if (device !== 'cuda') return;
  const check = await checkGpuProvider('cuda', installFacts());
  if (!check.loads) throw Object.assign(new Error(`device cuda: ${check.detail}; ${check.fix} (paddock doctor tells more), or use --device cpu / auto`), { exitCode: 2 });
}
