// `paddock doctor`: which onnxruntime execution providers load on this machine, why one does not,
// and what to do. `paddock setup-cuda PACKAGE`: the optional, offline CUDA step.
import type { Command } from 'commander';
import { checkProviders, setupCudaProviders, type ProviderName } from '@paddock/runtime';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check which execution providers (cpu, cuda, tensorrt) load here and why one does not; CPU always works')
    .option('--json', 'print the report as JSON')
    .option('--require <provider>', 'exit 1 unless this provider loads (cpu, cuda or tensorrt)')
    .action(async (flags: { json?: boolean; require?: ProviderName }) => {
      const report = await checkProviders();
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const lines = [`onnxruntime-node ${report.onnxruntimeVersion} (${report.libraryDir})`, `NVIDIA driver: ${report.driver ?? 'none loaded'}`];
        if (report.installedProviders) lines.push(`GPU provider libraries: onnxruntime ${report.installedProviders.onnxruntimeVersion}, from ${report.installedProviders.source}`);
        for (const p of report.providers) lines.push(`${p.loads ? 'ok  ' : 'no  '} ${p.provider.padEnd(8)} ${p.detail}${p.fix ? `\n              fix: ${p.fix}` : ''}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      const wanted = flags.require && report.providers.find((p) => p.provider === flags.require);
      if (flags.require && !wanted) throw Object.assign(new Error(`doctor --require: unknown provider "${flags.require}"; choose cpu, cuda or tensorrt`), { exitCode: 2 });
      if (wanted && !wanted.loads) process.exitCode = 1;
    });

  program
    .command('setup-cuda')
    .description("install onnxruntime's CUDA/TensorRT provider libraries from a package you have (no download): next to onnxruntime-node's core, same onnxruntime version only")
    .argument('<package>', 'the linux-x64 GPU provider package: a .tgz (npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9) or its unpacked folder')
    .option('--onnxruntime-version <x.y.z>', "the providers' onnxruntime version, when the package's README does not say")
    .action(async (source: string, flags: { onnxruntimeVersion?: string }) => {
      const result = setupCudaProviders(source, { onnxruntimeVersion: flags.onnxruntimeVersion });
      process.stdout.write(`${JSON.stringify(result)}\nnext: paddock doctor (checks the system CUDA 13 / cuDNN 9 libraries and the driver)\n`);
    });
}
