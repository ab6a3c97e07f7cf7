// Artifacts move between stages by reference: a path relative to the runs root
// (<run id>/manifest.json), resolved by each service against its own PADDOCK_RUNS_DIR, so the
// same event works on a shared volume mounted anywhere.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { DatasetManifestSchema, type DatasetManifest } from './gen/paddock/v1/dataset_pb.ts';
import { PathConfinementError } from './paths.ts';

export function artifactRef(runsDir: string, path: string): string {
  return relative(resolve(runsDir), resolve(path)).split('\\').join('/');
}

export function resolveArtifact(runsDir: string, ref: string): string {
  if (isAbsolute(ref) || ref.split('/').includes('..')) throw new PathConfinementError(`artifact reference "${ref}" must be relative to the runs root, without ".."`);
  return join(resolve(runsDir), ref);
}

export function readManifestFile(path: string): DatasetManifest {
  return fromJson(DatasetManifestSchema, JSON.parse(readFileSync(path, 'utf8')) as JsonValue, { ignoreUnknownFields: true });
}
