import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

describe('kiosk core and the disk', () => {
  it('no core module can write files: the certificate lives only in memory', () => {
    const dir = new URL('../../src/core/', import.meta.url);
    for (const f of readdirSync(dir)) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      assert.doesNotMatch(src, /from ['"](node:)?fs(\/promises)?['"]/, `${f} imports fs`);
    }
  });
});
