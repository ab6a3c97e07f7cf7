// The artifact store on a NATS JetStream object store (cluster mode): every file of an artifact is
// an object <key>/<name>, its record <key>/artifact.json is written last, so a record present
// means a complete artifact. Reads go through a local cache (a LocalArtifactStore under the runs
// root), so a stage on another node fetches an artifact once and then reads plain files.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ARTIFACT_RECORD, LocalArtifactStore, checkArtifactKey, sha256, type ArtifactInputs, type ArtifactRecord, type ArtifactStore, type StoredArtifact } from '@paddock/store';
import type { EventBus } from './bus.ts';
import { JetStreamEventBus, NATS_ENV, natsOptionsFrom } from './jetstream.ts';

export const DEFAULT_ARTIFACT_BUCKET = 'paddock-artifacts';

export class JetStreamArtifactStore implements ArtifactStore {
  private constructor(
    private readonly objects: ObjectStore,
    /** Where fetched and produced artifacts live on this node. */
    readonly cache: LocalArtifactStore,
    private readonly ownConnection?: NatsConnection,
  ) {}

  /** The store on `connection`; with `owned`, close() drains the connection too. */
  static async open(connection: NatsConnection, options: { cacheDir: string; bucket?: string; owned?: boolean }): Promise<JetStreamArtifactStore> {
    const objects = await new Objm(connection).create(options.bucket ?? DEFAULT_ARTIFACT_BUCKET);
    return new JetStreamArtifactStore(objects, new LocalArtifactStore(options.cacheDir), options.owned ? connection : undefined);
  }

  async close(): Promise<void> {
    await this.ownConnection?.drain().catch(() => this.ownConnection?.close());
  }

  private async record(key: string): Promise<ArtifactRecord | undefined> {
    const bytes = await this.objects.getBlob(`${checkArtifactKey(key)}/${ARTIFACT_RECORD}`);
    return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as ArtifactRecord) : undefined;
  }

  async has(key: string): Promise<boolean> {
    return (await this.objects.info(`${checkArtifactKey(key)}/${ARTIFACT_RECORD}`).catch(() => null)) !== null;
  }

  async get(key: string): Promise<StoredArtifact | undefined> {
    // The bucket is the truth: a local copy whose upload never finished does not count.
    const record = await this.record(key);
    if (!record) return undefined;
    const cached = await this.cache.get(key);
    if (cached) return cached;
    const staging = this.cache.stagingDir();
    try {
      for (const f of record.files) {
        const data = await this.objects.getBlob(`${key}/${f.name}`);
        if (!data || sha256(data) !== f.sha256) throw new Error(`artifact ${key}: object ${f.name} is missing or does not match its sha256`);
        mkdirSync(dirname(join(staging, f.name)), { recursive: true });
        writeFileSync(join(staging, f.name), data);
      }
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    return this.cache.put(key, staging, record);
  }

  async put(key: string, dir: string, info: { inputs: ArtifactInputs; result?: string }): Promise<StoredArtifact> {
    const remote = await this.record(key);
    if (remote) {
      rmSync(dir, { recursive: true, force: true });
      return (await this.get(key))!;
    }
    const local = await this.cache.put(key, dir, info);
    for (const f of local.record.files) await this.objects.putBlob({ name: `${key}/${f.name}` }, readFileSync(join(local.dir, f.name)));
    await this.objects.putBlob({ name: `${key}/${ARTIFACT_RECORD}`, metadata: { stage: local.record.inputs.stage } }, Buffer.from(JSON.stringify(local.record)));
    return local;
  }

  stagingDir(): string {
    return this.cache.stagingDir();
  }
}

/** Environment the artifact store is chosen from (cluster mode sets PADDOCK_ARTIFACTS=jetstream). */
export const ARTIFACTS_ENV = {
  /** file (default): <runs root>/artifacts; jetstream: the event bus's NATS; nats://host:port: that server. */
  store: 'PADDOCK_ARTIFACTS',
  /** Object store bucket (default paddock-artifacts). */
  bucket: 'PADDOCK_ARTIFACTS_BUCKET',
} as const;

/** The folder under the runs root where artifacts (or their local copies) live. */
export const ARTIFACTS_DIR = 'artifacts';

/** The artifact store the environment names; a `nats://` URL opens its own connection. */
export async function artifactStoreFrom(runsDir: string, bus?: EventBus, env: Record<string, string | undefined> = process.env): Promise<ArtifactStore> {
  const choice = env[ARTIFACTS_ENV.store] || 'file';
  const cacheDir = join(runsDir, ARTIFACTS_DIR);
  if (choice === 'file') return new LocalArtifactStore(cacheDir);
  const bucket = env[ARTIFACTS_ENV.bucket] || undefined;
  if (choice === 'jetstream') {
    if (!(bus instanceof JetStreamEventBus)) throw new RangeError(`${ARTIFACTS_ENV.store}=jetstream needs the NATS event bus (${NATS_ENV.url} or --nats); use file, or a nats:// URL`);
    return JetStreamArtifactStore.open(bus.connection, { cacheDir, bucket });
  }
  if (/^(nats|tls):\/\//.test(choice)) {
    const o = natsOptionsFrom(env, { servers: choice.split(',') });
    const connection = await connect({ servers: o.servers, user: o.user, pass: o.password, token: o.token, name: 'paddock-artifacts', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    return JetStreamArtifactStore.open(connection, { cacheDir, bucket, owned: true });
  }
  throw new RangeError(`${ARTIFACTS_ENV.store}="${choice}": choose file, jetstream or a nats:// URL`);
}
