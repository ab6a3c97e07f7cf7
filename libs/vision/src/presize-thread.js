// A worker thread's entry: its module loader is its own, so tsx is registered here too (as
// apps/cli/bin/paddock.js does for the main thread) before the TypeScript body loads.
import { register } from 'tsx/esm/api';

register();
await import('./presize-thread.ts');
