// Usage: npx tsx scripts/src/pki/generate-test-pki.ts [--dir D] [--force]
// Without --force an existing, still-valid PKI in D is kept; with --force it is always rebuilt.
// Prints the PKI directory on stdout so shell scripts can capture it.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPkiDir, ensureTestPki, generateTestPki } from './test-pki.ts';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, force: { type: 'boolean', default: false } },
});
const dir = values.dir ? resolve(values.dir) : defaultPkiDir();
const started = Date.now();
const manifest = values.force ? await generateTestPki(dir) : await ensureTestPki(dir);
console.error(`test PKI (generated ${manifest.generatedAt}, ${Object.keys(manifest.residents).length} residents) ready in ${Date.now() - started} ms`);
console.log(manifest.dir);
