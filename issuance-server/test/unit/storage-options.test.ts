// `--data-dir` and `--database` of `serve` and `admin`: exactly one, and a database address that
// is refused is never echoed (it may hold a password).
import assert from 'node:assert/strict';
import { storageFromOptions, UsageError } from '../../src/cli/cli-options.ts';

describe('storage options (--data-dir | --database)', () => {
  it('a data directory is SQLite; a postgres:// or postgresql:// URL is PostgreSQL', () => {
    assert.deepEqual(storageFromOptions({ 'data-dir': 'data' }), { dataDir: 'data' });
    for (const url of ['postgres://issuance@db1:5432/issuance', 'postgresql:///issuance?host=/run/postgresql']) {
      assert.deepEqual(storageFromOptions({ database: url }), { dataDir: '', databaseUrl: url });
    }
  });

  it('both, neither, or another kind of address is a usage error that names the options and not the address', () => {
    const refused = (values: Parameters<typeof storageFromOptions>[0], message: RegExp) =>
      assert.throws(
        () => storageFromOptions(values),
        (e: unknown) => e instanceof UsageError && message.test(e.message) && !e.message.includes('secret'),
      );
    refused({ 'data-dir': 'data', database: 'postgres://u:secret@db/x' }, /exclude each other/);
    refused({}, /--data-dir DIR .* or --database postgres:\/\/… .* is required/);
    refused({ database: 'mysql://u:secret@db/x' }, /must be a postgres:\/\/ or postgresql:\/\/ URL/);
    refused({ database: 'not a url secret' }, /must be a postgres:\/\//);
  });
});
