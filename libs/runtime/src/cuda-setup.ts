// The optional, offline CUDA setup: copy onnxruntime's CUDA/TensorRT provider libraries from a
// package the user already has (a .tgz from `npm pack`, or its unpacked folder) next to
// onnxruntime-node's core library — what onnxruntime-node's own install script would download.
// Refuses libraries of another onnxruntime version: they would fail to load, later and obscurely.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PROVIDER_RECORD, onnxruntimeInstall } from './providers.ts';

const REQUIRED = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
const OPTIONAL = ['libonnxruntime_providers_tensorrt.so'];

export class CudaSetupError extends Error {
  readonly exitCode = 2;
}

export interface CudaSetupOptions {
  /** The providers' onnxruntime version when the package does not say (its README's "ONNX Runtime: [x.y.z]"). */
  onnxruntimeVersion?: string;
  /** Where to put the libraries (default: onnxruntime-node's library folder). */
  targetDir?: string;
  /** The core's version (default: the installed onnxruntime-node's). */
  coreVersion?: string;
}

export interface CudaSetupResult {
  targetDir: string;
  onnxruntimeVersion: string;
  copied: string[];
}

/** The folder holding the provider libraries inside a package, and the package's README text. */
function locate(root: string): { libDir: string; readme: string } {
  const candidates = [join(root, 'package', 'Plugins', 'Linux', 'x64'), join(root, 'Plugins', 'Linux', 'x64'), root];
  const libDir = candidates.find((d) => existsSync(join(d, REQUIRED[1])));
  if (!libDir) throw new CudaSetupError(`${root}: no ${REQUIRED[1]} in it (looked in ${candidates.join(', ')}); give the linux-x64 GPU provider package (.tgz) or its unpacked folder`);
  const readme = [join(root, 'package', 'README.md'), join(root, 'README.md')].find(existsSync);
  return { libDir, readme: readme ? readFileSync(readme, 'utf8') : '' };
}

export function setupCudaProviders(source: string, options: CudaSetupOptions = {}): CudaSetupResult {
  if (!existsSync(source)) throw new CudaSetupError(`${source} does not exist; give the provider package (.tgz) or its unpacked folder`);
  const install = onnxruntimeInstall();
  const targetDir = options.targetDir ?? install.libraryDir;
  const coreVersion = options.coreVersion ?? install.version;
  const unpacked = statSync(source).isDirectory() ? undefined : mkdtempSync(join(tmpdir(), 'paddock-cuda-'));
  try {
    if (unpacked) execFileSync('tar', ['-xzf', source, '-C', unpacked], { stdio: ['ignore', 'ignore', 'pipe'] });
    const { libDir, readme } = locate(unpacked ?? source);
    const version = options.onnxruntimeVersion ?? /ONNX Runtime:\s*\[?(\d+\.\d+\.\d+)/.exec(readme)?.[1];
    if (!version) throw new CudaSetupError(`${source}: cannot tell which onnxruntime version its libraries are from (no "ONNX Runtime: x.y.z" in its README); pass --onnxruntime-version`);
    if (version !== coreVersion) {
      throw new CudaSetupError(`${source} holds onnxruntime ${version} providers but onnxruntime-node is ${coreVersion}; a provider only loads into the core of its own version: install onnxruntime-node@${version} (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${version}) or get providers for ${coreVersion}`);
    }
    const files = [...REQUIRED, ...OPTIONAL.filter((f) => existsSync(join(libDir, f)))];
    for (const f of REQUIRED) if (!existsSync(join(libDir, f))) throw new CudaSetupError(`${libDir}: ${f} is missing; the package is incomplete`);
    // Copy under a temporary name, then rename: a half-copied 230 MB library never sits in place.
    for (const f of files) {
      const tmp = join(targetDir, `.${f}.partial`);
      copyFileSync(join(libDir, f), tmp);
      renameSync(tmp, join(targetDir, f));
    }
    const record = join(targetDir, `.${PROVIDER_RECORD}.partial`);
    writeFileSync(record, `${JSON.stringify({ onnxruntimeVersion: version, source: basename(source), files }, null, 2)}\n`);
    renameSync(record, join(targetDir, PROVIDER_RECORD));
    return { targetDir, onnxruntimeVersion: version, copied: files };
  } finally {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  }
}
