import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/services/rate-limiter.ts';

const T0 = 1_000_000;

describe('rate limiter (token bucket)', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    const rl = new RateLimiter({ burst: 3, perMinute: 6 }); // one token every 10 s
    assert.equal(rl.take('k', T0), 0);
    assert.equal(rl.take('k', T0), 0);
    assert.equal(rl.take('k', T0), 0);
    assert.equal(rl.take('k', T0), 10_000);
    assert.equal(rl.take('k', T0 + 4_000), 6_000);
  });

  it('refills over time, never above the burst', () => {
    const rl = new RateLimiter({ burst: 2, perMinute: 60 }); // one per second
    rl.take('k', T0);
    rl.take('k', T0);
    assert.ok(rl.take('k', T0 + 500) > 0);
    assert.equal(rl.take('k', T0 + 1_000), 0);
    assert.ok(rl.take('k', T0 + 1_000) > 0);
    // a long idle time refills to the burst only
    for (let i = 0; i < 2; i++) assert.equal(rl.take('k', T0 + 3_600_000), 0);
    assert.equal(rl.take('k', T0 + 3_600_000), 1_000);
  });

  it('a refused take does not consume anything: waiting the answered time is enough', () => {
    const rl = new RateLimiter({ burst: 1, perMinute: 60 });
    assert.equal(rl.take('k', T0), 0);
    const wait = rl.take('k', T0 + 100);
    assert.equal(wait, 900);
    for (let i = 0; i < 10; i++) assert.ok(rl.take('k', T0 + 200) > 0);
    assert.equal(rl.take('k', T0 + 100 + wait), 0);
  });

  it('keeps a bucket per key', () => {
    const rl = new RateLimiter({ burst: 1, perMinute: 1 });
    assert.equal(rl.take('a', T0), 0);
    assert.ok(rl.take('a', T0) > 0);
    assert.equal(rl.take('b', T0), 0);
  });

  it('sustained rate equals perMinute', () => {
    const rl = new RateLimiter({ burst: 10, perMinute: 10 });
    let allowed = 0;
    for (let t = 0; t < 10 * 60_000; t += 1_000) if (rl.take('k', T0 + t) === 0) allowed++;
    // 10 at once, then 10 per minute over the remaining ~10 minutes
    assert.ok(allowed >= 10 + 99 && allowed <= 10 + 101, String(allowed));
  });

  it('refund gives a token back, capped at the burst', () => {
    const rl = new RateLimiter({ burst: 1, perMinute: 1 });
    assert.equal(rl.take('k', T0), 0);
    rl.refund('k');
    assert.equal(rl.take('k', T0), 0);
    rl.refund('k');
    rl.refund('k');
    assert.equal(rl.take('k', T0), 0);
    assert.ok(rl.take('k', T0) > 0);
    rl.refund('unknown'); // no bucket yet: nothing to give back, no error
    assert.equal(rl.take('unknown', T0), 0);
  });

  it('a clock that steps back does not drain the bucket', () => {
    const rl = new RateLimiter({ burst: 2, perMinute: 60 });
    assert.equal(rl.take('k', T0), 0);
    assert.equal(rl.take('k', T0 - 60_000), 0);
  });
});
