// @paddock/store: artifacts on disk — atomic writes and content hashes — and the artifact store
// contract (content-addressed stage outputs with a record of their inputs), local implementation.
export { sha256, writeFileAtomic, writeFileAtomicAsync, writeJsonAtomic } from './atomic.ts';
export { ARTIFACT_RECORD, artifactKey, canonicalJson, checkArtifactKey, type ArtifactFile, type ArtifactInputs, type ArtifactRecord, type ArtifactStore, type StoredArtifact } from './artifacts.ts';
export { LocalArtifactStore, filesIn, linkArtifactFiles } from './local-artifacts.ts';
