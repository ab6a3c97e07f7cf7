#!/usr/bin/env node
// Lint for one package: enforces the design's dependency arrows (apps -> libs, libs never import
// apps, every @paddock import declared in package.json and allowed by the layer order) and that
// sources import siblings by relative path inside the package only. Exit 1 with file:line on a breach.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// Which libs each lib may import (DESIGN.md: tensor, labels -> onnx -> autograd -> runtime -> vision, learner).
const libLayers = {
  tensor: [],
  labels: [],
  contracts: [],
  report: [],
  store: [],
  // Cluster mode: the event bus and the gRPC layer stand on the contracts (the bus also keeps
  // artifacts in the JetStream object store, behind libs/store's interface).
  events: ['contracts', 'store'],
  rpc: ['contracts'],
  onnx: ['tensor'],
  autograd: ['tensor', 'onnx'],
  runtime: ['tensor', 'onnx'],
  vision: ['tensor', 'onnx', 'runtime'],
  learner: ['tensor', 'labels', 'onnx', 'autograd', 'runtime', 'vision', 'report'],
};
const apps = new Set(['ingestion', 'augment', 'training', 'evaluation', 'submission', 'cli']);
// Apps another app may import: the CLI composes every stage; training consumes augment's batch
// stream (in process now, through augment's gRPC client in cluster mode).
const appDeps = { cli: [...apps], training: ['augment'] };

const root = resolve(process.argv[2] ?? '.');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const self = pkg.name.replace('@paddock/', '');
const isApp = apps.has(self);
const declared = new Set(Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@paddock/')).map((d) => d.slice(9)));
const problems = [];

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'gen') continue;
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.(ts|js)$/.test(name)) yield p;
  }
}

for (const sub of ['src', 'test', 'bin']) {
  let files;
  try { files = [...sources(join(root, sub))]; } catch { continue; }
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /(?:from\s+|import\s*\(\s*)['"]@paddock\/([a-z-]+)(?:\/[a-z-]+)?['"]/.exec(line);
      if (!m) return;
      const target = m[1];
      const where = `${relative(process.cwd(), file)}:${i + 1}`;
      if (target === self) problems.push(`${where}: imports its own package by name; use a relative path`);
      else if (!declared.has(target)) problems.push(`${where}: imports @paddock/${target}, which package.json does not declare`);
      else if (!isApp && apps.has(target)) problems.push(`${where}: lib ${self} imports app ${target}; libs never import apps`);
      else if (!isApp && !libLayers[self]?.includes(target)) problems.push(`${where}: lib ${self} may not import ${target} (allowed: ${libLayers[self]?.join(', ') || 'none'})`);
      else if (isApp && apps.has(target) && !appDeps[self]?.includes(target)) problems.push(`${where}: app ${self} imports app ${target}; allowed: ${appDeps[self]?.join(', ') || 'no app'}`);
    });
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${pkg.name}: boundaries ok`);
