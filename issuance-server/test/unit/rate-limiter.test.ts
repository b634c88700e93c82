import assert from 'node:assert/strict';
import type { RateLimit } from '../../src/config.ts';
import { openStore } from '../../src/context.ts';
import { flushRefusalWindows, REFUSAL_WINDOW_MS, takeTokens } from '../../src/services/rate-limiter.ts';
import type { Store } from '../../src/store/store.ts';
import { testStorage } from '../test-storage.ts';

const T0 = 1_000_000 * REFUSAL_WINDOW_MS;

/** Token buckets in a real database, as the server keeps them. */
function limiter(store: Store, limit: RateLimit) {
  return {
    take: (key: string, now: number) => store.write((tx) => takeTokens(tx, [{ key, limit }], now)),
  };
}

describe('rate limiter (token buckets in the database)', () => {
  const stores: Store[] = [];
  const removals: (() => Promise<void>)[] = [];
  const fresh = async () => {
    const storage = await testStorage('migrated');
    removals.push(storage.remove);
    const s = await openStore(storage.config);
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const remove of removals.splice(0)) await remove();
  });

  it('allows a burst, then refuses with the wait until the next token', async () => {
    const rl = limiter(await fresh(), { burst: 3, perMinute: 6 }); // one token every 10 s
    for (let i = 0; i < 3; i++) assert.equal(await rl.take('k', T0), 0);
    assert.equal(await rl.take('k', T0), 10_000);
    assert.equal(await rl.take('k', T0 + 4_000), 6_000);
  });

  it('refills over time, never above the burst', async () => {
    const rl = limiter(await fresh(), { burst: 2, perMinute: 60 }); // one per second
    await rl.take('k', T0);
    await rl.take('k', T0);
    assert.ok((await rl.take('k', T0 + 500)) > 0);
    assert.equal(await rl.take('k', T0 + 1_000), 0);
    assert.ok((await rl.take('k', T0 + 1_000)) > 0);
    // a long idle time refills to the burst only
    for (let i = 0; i < 2; i++) assert.equal(await rl.take('k', T0 + 3_600_000), 0);
    assert.equal(await rl.take('k', T0 + 3_600_000), 1_000);
  });

  it('a refused take does not consume anything: waiting the answered time is enough', async () => {
    const rl = limiter(await fresh(), { burst: 1, perMinute: 60 });
    assert.equal(await rl.take('k', T0), 0);
    const wait = await rl.take('k', T0 + 100);
    assert.equal(wait, 900);
    for (let i = 0; i < 10; i++) assert.ok((await rl.take('k', T0 + 200)) > 0);
    assert.equal(await rl.take('k', T0 + 100 + wait), 0);
  });

  it('keeps a bucket per key', async () => {
    const rl = limiter(await fresh(), { burst: 1, perMinute: 1 });
    assert.equal(await rl.take('a', T0), 0);
    assert.ok((await rl.take('a', T0)) > 0);
    assert.equal(await rl.take('b', T0), 0);
  });

  it('sustained rate equals perMinute', async () => {
    const rl = limiter(await fresh(), { burst: 10, perMinute: 10 });
    let allowed = 0;
    for (let t = 0; t < 10 * 60_000; t += 1_000) if ((await rl.take('k', T0 + t)) === 0) allowed++;
    // 10 at once, then 10 per minute over the remaining ~10 minutes
    assert.ok(allowed >= 10 + 99 && allowed <= 10 + 101, String(allowed));
  });

  it('several buckets: all or nothing (a refusal by the global one costs the kiosk nothing)', async () => {
    const store = await fresh();
    const kiosk = { burst: 5, perMinute: 5 };
    const global = { burst: 1, perMinute: 1 };
    const take = (k: string) => store.write((tx) => takeTokens(tx, [{ key: `kiosk:${k}`, limit: kiosk }, { key: 'kiosk:*', limit: global }], T0));
    assert.equal(await take('a'), 0);
    for (let i = 0; i < 4; i++) assert.ok((await take('a')) > 0);
    // the kiosk's own bucket still has all its other tokens
    assert.equal(await store.write((tx) => takeTokens(tx, [{ key: 'kiosk:a', limit: kiosk }], T0)), 0);
    for (let i = 0; i < 3; i++) assert.equal(await store.write((tx) => takeTokens(tx, [{ key: 'kiosk:a', limit: kiosk }], T0)), 0);
  });

  it('a clock that steps back does not drain the bucket', async () => {
    const rl = limiter(await fresh(), { burst: 2, perMinute: 60 });
    assert.equal(await rl.take('k', T0), 0);
    assert.equal(await rl.take('k', T0 - 60_000), 0);
  });

  it('refusals become one audit row per key and window, with their count', async () => {
    const store = await fresh();
    const rl = limiter(store, { burst: 1, perMinute: 1 });
    await rl.take('kiosk:guesser', T0);
    for (let i = 0; i < 500; i++) await rl.take('kiosk:guesser', T0 + i);
    await rl.take('kiosk:other', T0);
    await rl.take('kiosk:other', T0 + 1);
    const audit = () => store.db.read((x) => x.all<{ subject: string; details: string }>(`SELECT subject, details FROM audit_log WHERE event = 'rate_limited' ORDER BY seq`));
    await store.write((tx) => flushRefusalWindows(tx, T0 + REFUSAL_WINDOW_MS - 1));
    assert.deepEqual(await audit(), [], 'a window still open is not written yet');
    await store.write((tx) => flushRefusalWindows(tx, T0 + REFUSAL_WINDOW_MS));
    const rows = await audit();
    assert.deepEqual(
      rows.map((r) => [r.subject, JSON.parse(r.details).refused]),
      [
        ['kiosk:guesser', 500],
        ['kiosk:other', 1],
      ],
    );
    await store.write((tx) => flushRefusalWindows(tx, T0 + 2 * REFUSAL_WINDOW_MS));
    assert.equal((await audit()).length, 2, 'a window is written once');
  });

  it('buckets survive a restart', async () => {
    const storage = await testStorage('restart', async () => undefined);
    try {
      const limit = { burst: 2, perMinute: 1 };
      let store = await openStore(storage.config);
      assert.equal(await limiter(store, limit).take('k', T0), 0);
      assert.equal(await limiter(store, limit).take('k', T0), 0);
      await store.close();
      store = await openStore(storage.config);
      assert.ok((await limiter(store, limit).take('k', T0 + 1)) > 0, 'a restarted server does not hand out a fresh burst');
      await store.close();
    } finally {
      await storage.remove();
    }
  });
});
