import assert from 'node:assert/strict';
import {
  CONFIRM_PURPOSE,
  DEVICE_PURPOSE,
  LOGIN_PURPOSE,
  confirmationSignedText,
  deviceSignedText,
  loginSignedText,
} from '../../src/signed-texts.ts';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe('signed texts (PROTOCOL.md "Signed messages")', () => {
  it('purpose lines are the documented ones', () => {
    assert.equal(LOGIN_PURPOSE, 'jp-cert-issuance/login/v1');
    assert.equal(DEVICE_PURPOSE, 'jp-cert-issuance/device/v1');
    assert.equal(CONFIRM_PURPOSE, 'jp-cert-issuance/confirm/v1');
  });

  it('login text: purpose, challengeId, nonce joined by \\n', () => {
    const t = loginSignedText('c-123', 'bm9uY2U=');
    assert.ok(t instanceof Uint8Array);
    assert.deepEqual(t, bytes('jp-cert-issuance/login/v1\nc-123\nbm9uY2U='));
    assert.deepEqual(
      Buffer.from(t),
      Buffer.from([...Buffer.from('jp-cert-issuance/login/v1'), 0x0a, ...Buffer.from('c-123'), 0x0a, ...Buffer.from('bm9uY2U=')]),
    );
  });

  it('device text: purpose, nonce', () => {
    assert.deepEqual(deviceSignedText('N0NCE'), bytes('jp-cert-issuance/device/v1\nN0NCE'));
  });

  it('confirmation text: purpose, requestId, approve|decline', () => {
    assert.deepEqual(confirmationSignedText('req-1', true), bytes('jp-cert-issuance/confirm/v1\nreq-1\napprove'));
    assert.deepEqual(confirmationSignedText('req-1', false), bytes('jp-cert-issuance/confirm/v1\nreq-1\ndecline'));
  });

  it('no trailing newline, no CR, UTF-8 for non-ASCII input', () => {
    for (const t of [loginSignedText('a', 'b'), deviceSignedText('n'), confirmationSignedText('r', true)]) {
      assert.notEqual(t.at(-1), 0x0a);
      assert.ok(!t.includes(0x0d));
    }
    assert.deepEqual(deviceSignedText('日本'), bytes('jp-cert-issuance/device/v1\n日本'));
    assert.equal(deviceSignedText('日本').length, 'jp-cert-issuance/device/v1\n'.length + 6);
  });

  it('each purpose starts with its own line, so no text can pass for another', () => {
    const first = (t: Uint8Array) => text(t).split('\n')[0];
    const purposes = [first(loginSignedText('x', 'y')), first(deviceSignedText('x')), first(confirmationSignedText('x', true))];
    assert.equal(new Set(purposes).size, 3);
    // Same variable input, different purposes: different bytes.
    const n = 'same-value';
    const all = [
      loginSignedText(n, n),
      deviceSignedText(n),
      confirmationSignedText(n, true),
      confirmationSignedText(n, false),
      // a device text whose nonce mimics the rest of another text still differs in its first line
      deviceSignedText(`${n}\napprove`),
    ].map(text);
    assert.equal(new Set(all).size, all.length);
    assert.notEqual(text(deviceSignedText(`${n}\napprove`)), text(confirmationSignedText(n, true)));
    // approve and decline of the same request never share bytes
    assert.notDeepEqual(confirmationSignedText('r', true), confirmationSignedText('r', false));
  });
});
