// Runs the TypeScript worker entry named by the last argv through tsx. On Node 20 a worker thread gets
// neither the hooks that bin/issuance-server.js registers with tsx's register() nor any from
// `--import tsx` in its execArgv (tsx registers itself only on the main thread there), so the
// worker registers tsx for itself, as the bin does, before loading the entry.
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
