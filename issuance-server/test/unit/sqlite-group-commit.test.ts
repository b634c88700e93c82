import assert from 'node:assert/strict';
import { SqliteDatabase } from '../../src/store/db/sqlite-database.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';

describe('SQLite engine: writes committed in groups', () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = new SqliteDatabase(':memory:', MIGRATIONS);
  });
  afterEach(() => db.close());

  const insert = (key: string) => db.write((x) => x.run('INSERT INTO settings (key, value) VALUES (?, ?)', [key, 'v']));
  const keys = async () => (await db.read((x) => x.all<{ key: string }>(`SELECT key FROM settings WHERE key LIKE 'k%' ORDER BY key`))).map((r) => r.key);

  it('writes issued together share a commit; one that fails is rolled back alone', async () => {
    const results = await Promise.allSettled([
      insert('k1'),
      db.write(async (x) => {
        await x.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['k2', 'v']);
        throw new Error('this one changes its mind');
      }),
      insert('k3'),
      // The same key again: a constraint failure inside SQLite, also undone alone.
      insert('k1'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /changes its mind/);
    assert.match(String((results[3] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.deepEqual(await keys(), ['k1', 'k3']);
  });

  it('a write is answered only once committed: a read issued after it resolves sees it', async () => {
    const w = db.write(async (x) => {
      await x.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['k9', 'v']);
      return 'done';
    });
    assert.deepEqual(await keys(), [], 'a read queued before the group runs does not see its uncommitted work');
    assert.equal(await w, 'done');
    assert.deepEqual(await keys(), ['k9']);
  });

  it('many writes at once all land, in order', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => insert(`k${String(i).padStart(3, '0')}`)));
    const all = await keys();
    assert.equal(all.length, 200);
    assert.equal(all[0], 'k000');
    assert.equal(all.at(-1), 'k199');
  });
});
