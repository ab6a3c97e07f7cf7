import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CudaSetupError, PROVIDER_RECORD, checkProviders, setupCudaProviders } from '../src/index.ts';

const ortVersion = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
const cudaPresent = process.env.PADDOCK_EXPECT_CUDA === '1';

/** A provider package laid out like the linux-x64 GPU one: package/README.md + package/Plugins/Linux/x64/*.so. */
function providerPackage(version: string, libs = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so']): string {
  const root = mkdtempSync(join(tmpdir(), 'paddock-provider-pkg-'));
  const libDir = join(root, 'package', 'Plugins', 'Linux', 'x64');
  mkdirSync(libDir, { recursive: true });
  writeFileSync(join(root, 'package', 'README.md'), `# GPU provider\n- ONNX Runtime: [${version}](release notes)\n`);
  for (const lib of libs) writeFileSync(join(libDir, lib), `contents of ${lib}`);
  return root;
}

describe('checkProviders (paddock doctor)', () => {
  it('CPU loads and runs a graph; the report names the core version and where providers go', async () => {
    const report = await checkProviders();
    expect(report.onnxruntimeVersion).toBe(ortVersion);
    expect(report.libraryDir).toMatch(/onnxruntime-node\/bin\/napi-v6\/linux\/x64$/);
    expect(report.providers.map((p) => p.provider)).toEqual(['cpu', 'cuda', 'tensorrt']);
    expect(report.providers[0]).toMatchObject({ provider: 'cpu', loads: true });
  });

  it.skipIf(cudaPresent)('without the provider libraries CUDA and TensorRT do not load, and the fix is named', async () => {
    const [, cuda, tensorrt] = (await checkProviders()).providers;
    for (const p of [cuda, tensorrt]) {
      expect(p.loads).toBe(false);
      expect(p.detail).toMatch(/not installed in .*onnxruntime-node/);
      expect(p.fix).toContain('paddock setup-cuda');
    }
  });
});

describe('setupCudaProviders (paddock setup-cuda)', () => {
  it('refuses providers of another onnxruntime version, naming both and the install that fixes it', () => {
    const pkg = providerPackage('1.2.3');
    expect(() => setupCudaProviders(pkg, { targetDir: mkdtempSync(join(tmpdir(), 'paddock-target-')) })).toThrow(
      new CudaSetupError(`${pkg} holds onnxruntime 1.2.3 providers but onnxruntime-node is ${ortVersion}; a provider only loads into the core of its own version: install onnxruntime-node@1.2.3 (ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.2.3) or get providers for ${ortVersion}`),
    );
  });

  it('copies the libraries of a matching .tgz next to the core and records their version', () => {
    const pkg = providerPackage(ortVersion);
    const tgz = join(pkg, 'provider.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', pkg, 'package']);
    const target = mkdtempSync(join(tmpdir(), 'paddock-target-'));
    const result = setupCudaProviders(tgz, { targetDir: target });
    expect(result).toEqual({ targetDir: target, onnxruntimeVersion: ortVersion, copied: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'] });
    expect(readdirSync(target).sort()).toEqual(['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so', PROVIDER_RECORD]);
    expect(readFileSync(join(target, 'libonnxruntime_providers_cuda.so'), 'utf8')).toBe('contents of libonnxruntime_providers_cuda.so');
    expect(JSON.parse(readFileSync(join(target, PROVIDER_RECORD), 'utf8'))).toMatchObject({ onnxruntimeVersion: ortVersion, source: 'provider.tgz' });
  });

  it('an incomplete package or one that does not say its version fails before copying anything', () => {
    const target = mkdtempSync(join(tmpdir(), 'paddock-target-'));
    const noShared = providerPackage(ortVersion, ['libonnxruntime_providers_cuda.so']);
    expect(() => setupCudaProviders(noShared, { targetDir: target })).toThrow(/libonnxruntime_providers_shared.so is missing; the package is incomplete/);
    const noCuda = providerPackage(ortVersion, ['libonnxruntime_providers_shared.so']);
    expect(() => setupCudaProviders(noCuda, { targetDir: target })).toThrow(/no libonnxruntime_providers_cuda.so in it/);
    const silent = providerPackage(ortVersion);
    writeFileSync(join(silent, 'package', 'README.md'), '# no version here\n');
    expect(() => setupCudaProviders(silent, { targetDir: target })).toThrow(/pass --onnxruntime-version/);
    expect(readdirSync(target)).toEqual([]);
  });
});
