// The UI's logic that needs no browser: receipt entry, scanner bursts, the inactivity rule, the
// strings of the seven languages, the admin gate, the configuration and the web-mode command line.
import { dammCheckDigit, generateReceiptNumber } from '@cert/common';
import { KIOSK_LANGUAGES, KIOSK_STRINGS } from '@cert/common/i18n';
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminExitError, AdminGate } from '../../../src/host/admin-gate.ts';
import { KioskConfigError, loadKioskConfigFile, resolveKioskConfig } from '../../../src/host/kiosk-config.ts';
import { parseWebArgs, WebUsageError } from '../../../src/host/web-main.ts';
import { idleDeadline } from '../../../src/renderer/idle-policy.ts';
import { displayGroups, entryState, pushDigit, receiptFromScan } from '../../../src/renderer/receipt-entry.ts';
import { ScannerBurst } from '../../../src/renderer/scanner-burst.ts';

describe('kiosk UI logic', () => {
  describe('receipt entry', () => {
    const valid = generateReceiptNumber();

    it('says empty, partial, complete or mistyped; every single-digit slip at 12 digits is mistyped', () => {
      assert.equal(entryState(''), 'empty');
      assert.equal(entryState(valid.slice(0, 11)), 'partial');
      assert.equal(entryState(valid), 'complete');
      for (let i = 0; i < 12; i++) {
        const d = Number(valid[i]);
        const slip = valid.slice(0, i) + String((d + 1) % 10) + valid.slice(i + 1);
        assert.equal(entryState(slip), 'mistyped', slip);
      }
    });

    it('stops at 12 digits and ignores anything but a digit', () => {
      let digits = '';
      for (const c of `${valid}99x`) digits = pushDigit(digits, c);
      assert.equal(digits, valid);
      assert.equal(pushDigit('12', 'a'), '12');
    });

    it('groups the display by four with slots for the missing digits', () => {
      assert.deepEqual(displayGroups('123456'), ['1234', '56__', '____']);
    });

    it('finds the receipt in what a scanner sent: grouped, inside a URL, or full-width', () => {
      const grouped = valid.replace(/(\d{4})(?=\d)/g, '$1-');
      assert.equal(receiptFromScan(grouped), valid);
      assert.equal(receiptFromScan(`https://example.lg.jp/r/${valid}?v=2`), valid);
      const fullWidth = [...valid].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
      assert.equal(receiptFromScan(fullWidth), valid);
      // Not a receipt: the digits go to the keypad, where the hint says what is wrong.
      const head = valid.slice(0, 11);
      const wrong = head + String((dammCheckDigit(head) + 1) % 10);
      assert.equal(receiptFromScan(wrong), wrong);
      assert.equal(receiptFromScan('no digits here'), null);
    });
  });

  describe('scanner bursts', () => {
    const feed = (burst: ScannerBurst, keys: string[], gapMs: number, start = 1000) => keys.map((k, i) => burst.feed(k, start + i * gapMs)).filter((r) => r !== null);

    it('a fast run of 12+ characters ending in Enter is a scan (Shift for capitals does not break it)', () => {
      const b = new ScannerBurst();
      assert.deepEqual(feed(b, [...'1234-5678-9012', 'Enter'], 8), ['1234-5678-9012']);
      assert.deepEqual(feed(b, ['Shift', 'R', ...'123456789012', 'Enter'], 5, 5000), ['R123456789012']);
    });

    it('typing at human speed, short codes, and a late Enter are not scans', () => {
      const b = new ScannerBurst();
      assert.deepEqual(feed(b, [...'123456789012', 'Enter'], 120), []);
      assert.deepEqual(feed(b, [...'12345', 'Enter'], 5, 10_000), []);
      assert.deepEqual([...[...'123456789012'].map((k, i) => b.feed(k, 20_000 + i * 5)), b.feed('Enter', 20_000 + 11 * 5 + 400)].filter((r) => r !== null), []);
    });

    it('a pause restarts the burst: only the fast tail counts', () => {
      const b = new ScannerBurst();
      b.feed('9', 0);
      assert.deepEqual(feed(b, [...'123456789012', 'Enter'], 5, 1000), ['123456789012']);
    });
  });

  describe('inactivity', () => {
    it('idle screens return after the timeout; the approval screen only after its countdown; busy screens never', () => {
      assert.equal(idleDeadline({ kind: 'idle' }, 1000, 90_000), 91_000);
      assert.equal(idleDeadline({ kind: 'after', deadline: 120_000 }, 1000, 90_000), 210_000);
      assert.equal(idleDeadline({ kind: 'after', deadline: 120_000 }, 150_000, 90_000), 240_000);
      assert.equal(idleDeadline({ kind: 'none' }, 1000, 90_000), null);
    });
  });

  it('every language has every text, none empty, and the functions fill in their values', () => {
    const keys = Object.keys(KIOSK_STRINGS.en).sort();
    for (const lang of KIOSK_LANGUAGES) {
      const t = KIOSK_STRINGS[lang];
      assert.deepEqual(Object.keys(t).sort(), keys, lang);
      for (const [k, v] of Object.entries(t)) {
        if (typeof v === 'string') assert.ok(v.trim(), `${lang}.${k} is empty`);
        else if (typeof v === 'object') for (const [kk, vv] of Object.entries(v as Record<string, string>)) assert.ok(vv.trim(), `${lang}.${k}.${kk} is empty`);
      }
      assert.ok(t.entryProgress(7).includes('7'), lang);
      assert.ok(t.copies(2).includes('2'), lang);
      assert.ok(t.approveStore('X店').includes('X店'), lang);
      assert.ok(t.rateBody(42).includes('42') && t.rateBody(null).trim(), lang);
      assert.ok(t.adminLocked(60).includes('60'), lang);
    }
  });

  describe('admin gate', () => {
    it('accepts the code, refuses others, locks after five wrong tries and unlocks later', () => {
      let now = 0;
      const gate = new AdminGate('246810', { now: () => now });
      assert.doesNotThrow(() => gate.check('246810'));
      const code = (f: () => void) => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as AdminExitError).code;
        }
      };
      for (let i = 0; i < 4; i++) assert.equal(code(() => gate.check('000000')), 'admin_code_wrong');
      assert.equal(code(() => gate.check('000000')), 'admin_locked');
      // Locked: even the right code waits.
      assert.equal(code(() => gate.check('246810')), 'admin_locked');
      now += 61_000;
      assert.equal(code(() => gate.check('246810')), 'ok');
      assert.equal(code(() => new AdminGate(null).check('246810')), 'admin_exit_disabled');
      // A prefix or a longer string is not the code.
      assert.equal(code(() => gate.check('24681')), 'admin_code_wrong');
      assert.equal(code(() => gate.check('2468100')), 'admin_code_wrong');
    });
  });

  describe('configuration', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'kiosk-config-'));
      writeFileSync(join(dir, 'credential'), 'kiosk-secret\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const base = { serverUrl: 'https://issuance.example/', credentialFile: 'credential', printerUri: 'ipp://printer.local:631/ipp/print', storeName: 'テスト店', payment: { mode: 'free' } };

    it('reads the credential relative to the file, applies defaults and converts seconds', () => {
      const file = join(dir, 'kiosk-config.json');
      writeFileSync(file, JSON.stringify({ ...base, adminCode: '13579246', inactivitySeconds: 30 }));
      const c = loadKioskConfigFile(file);
      assert.equal(c.credential, 'kiosk-secret');
      assert.equal(c.endpoint.baseUrl, 'https://issuance.example');
      assert.equal(c.inactivityMs, 30_000);
      assert.equal(c.decisionTimeoutMs, 150_000);
      assert.equal(c.adminCode, '13579246');
    });

    it('says what is wrong: missing file, bad JSON, unknown or invalid fields, unreadable credential', () => {
      const problem = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          assert.ok(e instanceof KioskConfigError, String(e));
          return e.message;
        }
        assert.fail('no error');
      };
      assert.match(problem(() => loadKioskConfigFile(join(dir, 'missing.json'))), /cannot read the kiosk configuration file .*missing\.json: ENOENT/);
      writeFileSync(join(dir, 'bad.json'), '{');
      assert.match(problem(() => loadKioskConfigFile(join(dir, 'bad.json'))), /is not valid JSON/);
      const invalid = problem(() => resolveKioskConfig({ ...base, printerUri: 'lpd://x', adminCode: '12', extra: 1 }, 'test.json', dir));
      assert.match(invalid, /printerUri: must be a ipp:\/\/ or ipps:\/\/ or http:\/\/ or https:\/\/ URL/);
      assert.match(invalid, /adminCode: must be 6 to 12 digits/);
      assert.match(invalid, /extra/);
      writeFileSync(join(dir, 'no-store.json'), JSON.stringify({ ...base, storeName: undefined }));
      assert.match(problem(() => loadKioskConfigFile(join(dir, 'no-store.json'))), /storeName/);
      assert.match(problem(() => resolveKioskConfig({ ...base, credentialFile: 'nope' }, 'test.json', dir)), /cannot read the credential file .*nope: ENOENT/);
    });
  });

  describe('web-mode command line', () => {
    it('parses the documented options and refuses mistakes with a clear message', () => {
      const cred = join(REPO_ROOT, 'package.json');
      const ok = parseWebArgs(['--server', 'http://127.0.0.1:8443', '--credential-file', cred, '--printer', 'ipp://localhost:631/ipp/print', '--payment', 'free', '--port', '0', '--inactivity-seconds', '45']);
      assert.equal(ok?.host.port, 0);
      assert.equal(ok?.host.inactivityMs, 45_000);
      assert.equal(parseWebArgs(['--help']), null);
      assert.throws(() => parseWebArgs(['--server', 'http://x']), (e: Error) => e instanceof WebUsageError && /missing --credential-file, --printer/.test(e.message));
      assert.throws(() => parseWebArgs(['--server', 'ftp://x', '--credential-file', cred, '--printer', 'ipp://p', '--payment', 'free']), /serverUrl: must be a https:\/\/ or http:\/\/ URL/);
      assert.throws(() => parseWebArgs(['--server', 'http://x', '--credential-file', cred, '--printer', 'ipp://p', '--payment', 'free', '--port', '99999']), /--port must be a port number/);
      assert.throws(() => parseWebArgs(['--bogus']), /Unknown option '--bogus'/);
    });
  });
});
