import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

// onnxruntime's own log goes to stderr unformatted (e.g. the failed CUDA load on a machine without
// it); Paddock reports every failure in its own words, so only fatal lines pass unless asked for.
ort.env.logLevel = (process.env.PADDOCK_ORT_LOG_LEVEL as typeof ort.env.logLevel) ?? 'fatal';

/** cpu: always works. cuda: fail if unavailable. auto: cuda when it loads, else cpu with a message. */
export type Device = 'cpu' | 'cuda' | 'auto';

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** Called once with a human-readable line when the device choice falls back. */
  onNotice?: (message: string) => void;
  /** Write onnxruntime's per-node profile to files starting with this prefix (benchmarks). */
  profilePrefix?: string;
}

export interface Session {
  readonly session: ort.InferenceSession;
  /** The provider the session really runs on. */
  readonly device: 'cpu' | 'cuda';
}

let cudaUnavailableReason: string | undefined;

/** The execution providers to try for a device, in order. */
export function resolveDevice(device: Device): ('cpu' | 'cuda')[] {
  if (device === 'cpu') return ['cpu'];
  if (device === 'cuda') return ['cuda'];
  return cudaUnavailableReason ? ['cpu'] : ['cuda', 'cpu'];
}

export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<Session> {
  const device = options.device ?? 'cpu';
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    // Without the memory pattern the arena reuses freed blocks; with it ORT also reserves the
    // planned peak as one block: ResNet-18 training at batch 32 peaked at 1.32–1.38 GB with it,
    // 1.00–1.05 GB without, at the same speed (bench/train-step.ts).
    enableMemPattern: false,
    ...(options.profilePrefix && { enableProfiling: true, profileFilePrefix: options.profilePrefix }),
  };
  let lastError: unknown;
  for (const provider of resolveDevice(device)) {
    try {
      // A failed CUDA load is reported once, in our words, not as onnxruntime's error log.
      const opts = { ...base, executionProviders: [provider], ...(provider === 'cuda' && { logSeverityLevel: 4 as const }) };
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
      return { session, device: provider };
    } catch (error) {
      lastError = error;
      if (provider === 'cuda') {
        cudaUnavailableReason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        if (device === 'cuda') {
          throw Object.assign(new Error(`device cuda: onnxruntime could not start the CUDA execution provider (${cudaUnavailableReason}). "paddock doctor" says why and how to fix it; or use --device cpu.`), { exitCode: 2 });
        }
        options.onNotice?.(`device auto: CUDA is not available (${cudaUnavailableReason}); running on CPU.`);
      }
    }
  }
  throw lastError;
}
