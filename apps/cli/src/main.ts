// The paddock command line: each command (commands/*.ts) parses its flags into validated specs
// and calls the stage functions. Bad input (a typed error with exitCode 2) prints one clear
// message and exits 2; anything else is a bug and prints its stack.
import { Command } from 'commander';
import { commands } from './commands/index.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('paddock').description('Train fastai-style image classifiers with ONNX training graphs.').showHelpAfterError();
  program.exitOverride();
  for (const register of commands) register(program);

  try {
    await program.parseAsync(argv);
    // A command that found what it checks for missing (doctor --require) sets a non-zero exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const e = error as Error & { exitCode?: number; code?: string };
    if (e.code?.startsWith('commander.')) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    if (e.exitCode === 2) {
      process.stderr.write(`paddock: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`paddock: ${e.stack ?? e.message}\n`);
    return 1;
  }
}

