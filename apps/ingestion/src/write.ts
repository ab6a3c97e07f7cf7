// writeManifest: stores a DatasetManifest as manifest.json (items, vocab, split; no audit) and
// audit.json (the audit alone), 2-space proto JSON that fromJson reads back. Each file is written
// to a temporary name and renamed, so a reader never sees half a manifest.
import { join } from 'node:path';
import { create, toJson, type JsonWriteOptions } from '@bufbuild/protobuf';
import { AuditSchema, DatasetManifestSchema, type DatasetManifest } from '@paddock/contracts';
import { writeFileAtomicAsync } from '@paddock/store';

// alwaysEmitImplicit: every item shows every field (label_id 0, duplicate_group 0), so the
// file reads the same for every item; enums are written by name (SPLIT_VALID).
const JSON_OPTIONS: Partial<JsonWriteOptions> = { alwaysEmitImplicit: true };

export interface WrittenManifest {
  manifestPath: string;
  auditPath: string;
}

export async function writeManifest(manifest: DatasetManifest, dir: string): Promise<WrittenManifest> {
  const withoutAudit = create(DatasetManifestSchema, { ...manifest, audit: undefined });
  const audit = manifest.audit ?? create(AuditSchema);
  const manifestPath = join(dir, 'manifest.json');
  const auditPath = join(dir, 'audit.json');
  await writeFileAtomicAsync(manifestPath, JSON.stringify(toJson(DatasetManifestSchema, withoutAudit, JSON_OPTIONS), null, 2) + '\n');
  await writeFileAtomicAsync(auditPath, JSON.stringify(toJson(AuditSchema, audit, JSON_OPTIONS), null, 2) + '\n');
  return { manifestPath, auditPath };
}
