// Every paddock command; each module registers one (or a family) on the program.
import type { Command } from 'commander';
import { register as demo } from './demo.ts';
import { register as run } from './run.ts';
import { register as score } from './score.ts';

export const commands: ((program: Command) => void)[] = [run, demo, score];
