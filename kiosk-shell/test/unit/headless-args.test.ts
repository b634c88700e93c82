// The headless command line without running it (rig/headless.test.ts runs the installed bin).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHeadlessArgs, UsageError } from '../../src/headless/cli.ts';

describe('kiosk-shell headless: arguments', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kiosk-headless-args-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('parses the options and reads the credential file', () => {
    const cred = join(work, 'cred-ok');
    writeFileSync(cred, 'secret-credential\n');
    const o = parseHeadlessArgs(['--server', 'http://127.0.0.1:8443/', '--credential-file', cred, '--printer', 'ipp://localhost:631/ipp/print', '--payment', 'free', '--print-timeout-seconds', '30']);
    assert.ok(o);
    assert.equal(o.credential, 'secret-credential');
    assert.equal(o.endpoint.baseUrl, 'http://127.0.0.1:8443');
    assert.equal(o.printTimeoutMs, 30_000);
    assert.equal(o.decisionTimeoutMs, 150_000);
    assert.equal(parseHeadlessArgs(['--help']), null);
  });

  it('rejects what it cannot use, with a clear message', () => {
    const cred = join(work, 'cred-ok');
    const good = ['--server', 'http://x', '--credential-file', cred, '--printer', 'ipp://p/ipp/print', '--payment', 'free'];
    const bad: [string[], RegExp][] = [
      [[], /missing --server, --credential-file, --printer/],
      [[...good, '--bogus'], /Unknown option '--bogus'/],
      [[...good, 'extra'], /positional/i],
      [['--server', 'ftp://x', '--credential-file', cred, '--printer', 'ipp://p', '--payment', 'free'], /http:\/\/ or https:\/\//],
      [['--server', 'http://x', '--credential-file', cred, '--printer', 'lpd://p', '--payment', 'free'], /ipp:\/\//],
      [['--server', 'http://x', '--credential-file', join(work, 'nope'), '--printer', 'ipp://p', '--payment', 'free'], /cannot read the credential file .*ENOENT/],
      [[...good, '--decision-timeout-seconds=-5'], /positive number of seconds/],
      [[...good, '--decision-timeout-seconds', '0'], /positive number of seconds/],
      [[...good, '--print-timeout-seconds', 'soon'], /positive number of seconds/],
    ];
    for (const [args, message] of bad) assert.throws(() => parseHeadlessArgs(args), (e: unknown) => e instanceof UsageError && message.test(e.message), args.join(' '));
  });
});
