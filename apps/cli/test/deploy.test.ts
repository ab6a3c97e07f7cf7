// deploy/ checked against the code: every container runs a real `paddock serve` stage with flags
// the command defines, every env var is one the code reads, ports and probes agree with the
// serve port, images have a Dockerfile, and kustomize resources and KEDA targets exist.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PATH_ENV } from '@paddock/contracts';
import { ARTIFACTS_ENV, NATS_ENV } from '@paddock/events';
import { RPC_ENV } from '@paddock/rpc';
import { TRAINING_ENV } from '@paddock/training/service';
import { register as registerServe, SERVE_ENV, STAGES } from '../src/commands/serve.ts';

const deploy = join(import.meta.dirname, '../../../deploy');
const knownEnv = new Set<string>([...Object.values(SERVE_ENV), ...Object.values(NATS_ENV), ...Object.values(ARTIFACTS_ENV), ...Object.values(TRAINING_ENV), ...Object.values(RPC_ENV), ...Object.values(PATH_ENV)]);
const program = new Command();
registerServe(program);
const serve = program.commands.find((c) => c.name() === 'serve')!;
const serveFlags = new Set(serve.options.map((o) => o.long!));
const DEFAULT_PORT = 50051;

const yamlFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
const docs = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const dockerfileStage = (image: string) => {
  const file = join(deploy, 'docker', `${image.replace(/^paddock-/, '')}.Dockerfile`);
  expect(existsSync(file), `${image} has no deploy/docker Dockerfile`).toBe(true);
  const entry = /ENTRYPOINT \[(.*)\]/.exec(readFileSync(file, 'utf8'))![1];
  return JSON.parse(`[${entry}]`) as string[];
};
const flagsIn = (args: string[]) => args.filter((a) => a.startsWith('--'));

describe('deploy/', () => {
  it('Dockerfiles: one per stage, multi-stage, non-root, CUDA base for augment and training, running `paddock serve <stage>`', () => {
    for (const stage of STAGES.filter((s) => s !== 'pipeline')) {
      const text = readFileSync(join(deploy, 'docker', `${stage}.Dockerfile`), 'utf8');
      expect(text.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/^USER 10001$/m);
      expect(/FROM nvidia\/cuda:/.test(text)).toBe(stage === 'augment' || stage === 'training');
      expect(dockerfileStage(`paddock-${stage}`)).toEqual(['node', 'apps/cli/bin/paddock.js', 'serve', stage]);
      for (const [, name] of text.matchAll(/\b(PADDOCK_[A-Z_]+)=/g)) expect(knownEnv, name).toContain(name);
      expect(text).toContain(`EXPOSE ${DEFAULT_PORT}`);
    }
  });

  it('kustomize base and overlays: resources exist, containers use real flags, env vars, ports and probes', () => {
    const k8s = join(deploy, 'k8s');
    const kinds = new Map<string, string[]>();
    const configKeys = new Set<string>();
    for (const file of yamlFiles(k8s)) {
      for (const doc of docs(file)) {
        if (doc.kind === 'Kustomization') {
          for (const r of doc.resources ?? []) expect(existsSync(join(dirname(file), r)), `${file}: ${r}`).toBe(true);
          for (const p of doc.patches ?? []) if (p.path) expect(existsSync(join(dirname(file), p.path)), `${file}: ${p.path}`).toBe(true);
          continue;
        }
        kinds.set(doc.kind, [...(kinds.get(doc.kind) ?? []), doc.metadata.name]);
        if (doc.kind === 'ConfigMap' && doc.metadata.name === 'paddock-config') for (const k of Object.keys(doc.data)) configKeys.add(k);
        const pod = doc.spec?.template?.spec;
        for (const c of pod?.containers ?? []) {
          if (c.name === 'nats') continue;
          const where = `${file}: ${doc.kind}/${doc.metadata.name}`;
          if (c.image) {
            expect(c.image).toBe(`paddock-${c.name}`);
            expect(dockerfileStage(c.image)[3], where).toBe(c.name);
          }
          for (const f of flagsIn(c.args ?? [])) expect(serveFlags, `${where}: ${f}`).toContain(f);
          for (const e of c.env ?? []) expect(knownEnv, `${where}: ${e.name}`).toContain(e.name);
          for (const p of c.ports ?? []) expect(p.containerPort).toBe(DEFAULT_PORT);
          const port = c.args?.[c.args.indexOf('--port') + 1];
          if (port) expect(Number(port)).toBe(DEFAULT_PORT);
          for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) expect(probe.grpc.port, where).toBe(DEFAULT_PORT);
        }
      }
    }
    for (const k of configKeys) expect(knownEnv, `paddock-config: ${k}`).toContain(k);
    expect(kinds.get('Deployment')).toEqual(expect.arrayContaining(['ingestion', 'augment', 'evaluation', 'submission']));
    expect(kinds.get('Job')).toContain('training');
    expect(kinds.get('PersistentVolumeClaim')).toContain('paddock-runs');
    const base = join(k8s, 'base');
    const augmentService = docs(join(base, 'augment.yaml')).find((d) => d.kind === 'Service');
    expect(augmentService.spec.clusterIP).toBe('None');
    const scaled = docs(join(base, 'augment-scaledobject.yaml'))[0];
    expect(kinds.get('Deployment')).toContain(scaled.spec.scaleTargetRef.name);
    const trigger = scaled.spec.triggers[0];
    expect(trigger.type).toBe('nats-jetstream');
    expect(trigger.metadata.stream).toBe('PADDOCK'); // JetStreamEventBus's default stream
    expect(['ingestion', 'training', 'evaluation', 'submission']).toContain(trigger.metadata.consumer); // durable consumer = stage name
  });

  it('compose: NATS plus every stage, real flags and env vars', () => {
    const compose = docs(join(deploy, 'compose', 'compose.yaml'))[0];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['nats', 'ingestion', 'augment', 'training', 'evaluation', 'submission']));
    for (const [name, svc] of Object.entries<Record<string, any>>(compose.services)) {
      if (name === 'nats') continue;
      for (const k of Object.keys(svc.environment ?? {})) expect(knownEnv, `${name}: ${k}`).toContain(k);
      if (!svc.entrypoint) {
        expect(dockerfileStage(svc.image)[3]).toBe(name);
        for (const f of flagsIn(svc.command ?? [])) expect(serveFlags, `${name}: ${f}`).toContain(f);
      }
      if (svc.build) expect(existsSync(join(deploy, 'compose', svc.build.context, svc.build.dockerfile))).toBe(true);
    }
    expect(compose.services.nats.command).toEqual(expect.arrayContaining(['-js']));
  });
});
