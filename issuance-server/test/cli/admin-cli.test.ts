import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import BetterSqlite3 from 'better-sqlite3';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import { DATABASE_FILE } from '../../src/store/db/sqlite-database.ts';
import { DEMO_RESIDENTS, admin, runCli, tempDir, type CliResult } from './cli-harness.ts';
import { DEMO_DIR } from '@cert/scripts/demo';
import { zipSync } from 'fflate';

x509.cryptoProvider.set(webcrypto);

const CODE = '999991';
const NAME = 'テスト市';
const HEADER = 'id,householdId,name,nameKana,birthDate,sex,address,relationshipToHead,domicile,domicileHead,status,supportMeasure';
const row = (id: string, over: Partial<Record<'birthDate' | 'sex', string>> = {}) =>
  `${id},H1,山田 太郎,ヤマダ タロウ,${over.birthDate ?? '1985-04-12'},${over.sex ?? '1'},テスト市本町1,世帯主,,,active,false`;

/** Reads the data directory's database the way an auditor would: a separate connection. */
function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const count = (dataDir: string, table: string) => query<{ n: number }>(dataDir, `SELECT COUNT(*) AS n FROM ${table}`)[0]!.n;

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function failed(r: CliResult, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
}

async function init(dataDir: string): Promise<void> {
  ok(await admin(dataDir, 'init', '--municipality-code', CODE, '--municipality-name', NAME), 'init');
}

describe('admin CLI (spawned bin)', function () {
  this.timeout(120_000);
  let m: TestPkiManifest;
  let tmp: ReturnType<typeof tempDir>;
  let files: Record<'authRootDer' | 'signRootDer' | 'garbage' | 'foreignCrl', string>;

  before(async () => {
    m = await ensureTestPki();
    tmp = tempDir('admin');
    const authRootDer = join(tmp.dir, 'auth-root.der');
    const signRootDer = join(tmp.dir, 'sign-root.der');
    execFileSync('openssl', ['x509', '-in', m.authRoot.certPath, '-outform', 'DER', '-out', authRootDer]);
    execFileSync('openssl', ['x509', '-in', m.signRoot.certPath, '-outform', 'DER', '-out', signRootDer]);
    const garbage = join(tmp.dir, 'garbage.pem');
    writeFileSync(garbage, 'this is not a certificate\n');
    // A CRL genuinely signed by a root that is never configured as an anchor.
    const otherRoot = new x509.X509Certificate(readFileSync(m.otherRoot.certPath, 'utf8'));
    const otherKey = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(readFileSync(m.otherRoot.keyPath, 'utf8')),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const crl = await x509.X509CrlGenerator.create({
      issuer: otherRoot.subjectName,
      thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.now() + 86_400_000),
      entries: [{ serialNumber: '0abc', revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise }],
      signingKey: otherKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    const foreignCrl = join(tmp.dir, 'other-root.crl.pem');
    writeFileSync(foreignCrl, x509.PemConverter.encode(crl.rawData, 'X509 CRL'));
    files = { authRootDer, signRootDer, garbage, foreignCrl };
  });

  after(() => tmp?.cleanup());

  describe('before init', () => {
    it('every command that needs the municipality fails clearly and changes nothing', async () => {
      const dir = join(tmp.dir, 'uninit');
      // In parallel, on a fresh directory: this also exercises concurrent first opening.
      const [anchor, crl, residents, card, kiosk] = await Promise.all([
        admin(dir, 'trust-anchor', 'add', m.authRoot.certPath),
        admin(dir, 'crl', 'import', m.crl.pemPath),
        admin(dir, 'residents', 'import', DEMO_RESIDENTS),
        admin(dir, 'card', 'link', '--resident', 'R0001', '--certificate', m.residents['R0001']!.auth.certPath),
        admin(dir, 'kiosk', 'register', '--name', 'Store', '--location', 'Somewhere'),
      ]);
      for (const [what, r] of Object.entries({ anchor, crl, residents, card, kiosk })) {
        failed(r, 1, /not initialised; run `admin init` first/, what);
        assert.equal(r.stdout, '', what);
      }
      for (const table of ['municipality', 'trust_anchors', 'crls', 'residents', 'card_links', 'kiosks', 'audit_log']) {
        assert.equal(count(dir, table), 0, table);
      }
      // audit verify works on an empty log
      const verify = await admin(dir, 'audit', 'verify');
      ok(verify, 'audit verify');
      assert.match(verify.stdout, /audit log intact: 0 row\(s\)/);
    });
  });

  describe('init', () => {
    it('initialises, and re-init renames', async () => {
      const dir = join(tmp.dir, 'init');
      const r = await admin(dir, 'init', '--municipality-code', CODE, '--municipality-name', NAME);
      ok(r, 'init');
      assert.match(r.stdout, new RegExp(`initialised ${NAME} \\(${CODE}\\)`));
      assert.deepEqual(query(dir, 'SELECT code, name FROM municipality'), [{ code: CODE, name: NAME }]);
      ok(await admin(dir, 'init', '--municipality-code', '999992', '--municipality-name', '  別名市 '), 're-init');
      assert.deepEqual(query(dir, 'SELECT code, name FROM municipality'), [{ code: '999992', name: '別名市' }]);
    });

    it('refuses a bad code, an empty name and missing options', async () => {
      const dir = join(tmp.dir, 'init-bad');
      const [badCode, emptyName, missing] = await Promise.all([
        admin(dir, 'init', '--municipality-code', '12345', '--municipality-name', NAME),
        admin(dir, 'init', '--municipality-code', CODE, '--municipality-name', '   '),
        admin(dir, 'init', '--municipality-code', CODE),
      ]);
      failed(badCode, 1, /^error: municipality code "12345" must be the 6-digit/m, 'short code');
      failed(emptyName, 1, /^error: municipality name must not be empty/m, 'empty name');
      failed(missing, 2, /init needs --municipality-code and --municipality-name[\s\S]*usage:/, 'missing name');
      assert.equal(count(dir, 'municipality'), 0);
    });
  });

  describe('an initialised data directory', () => {
    let dir: string;
    before(async () => {
      dir = join(tmp.dir, 'main');
      await init(dir);
    });

    it('trust-anchor add: PEM, the same root in DER (already present), another root in DER', async () => {
      const pem = await admin(dir, 'trust-anchor', 'add', m.authRoot.certPath);
      ok(pem, 'add PEM');
      const sha = createHash('sha256').update(readFileSync(files.authRootDer)).digest('hex');
      assert.match(pem.stdout, new RegExp(`^added: C=JP, O=JPKI-TEST, OU=JPKI for user authentication.* sha256=${sha}$`, 'm'));
      const [again, der] = await Promise.all([admin(dir, 'trust-anchor', 'add', files.authRootDer), admin(dir, 'trust-anchor', 'add', files.signRootDer)]);
      ok(again, 're-add DER');
      assert.match(again.stdout, new RegExp(`^already present: .* sha256=${sha}$`, 'm'));
      ok(der, 'add DER');
      assert.match(der.stdout, /^added: C=JP, O=JPKI-TEST, OU=JPKI for digital signature/m);
      assert.deepEqual(query<{ sha256: string }>(dir, 'SELECT sha256 FROM trust_anchors ORDER BY added_at, sha256').length, 2);
      assert.equal(count(dir, 'trust_anchors'), 2);
    });

    it('trust-anchor add: garbage, a key file, a missing file and no file are refused', async () => {
      const [garbage, key, missing, none] = await Promise.all([
        admin(dir, 'trust-anchor', 'add', files.garbage),
        admin(dir, 'trust-anchor', 'add', m.authRoot.keyPath),
        admin(dir, 'trust-anchor', 'add', join(tmp.dir, 'no-such-file.pem')),
        admin(dir, 'trust-anchor', 'add'),
      ]);
      failed(garbage, 1, /^error: not a DER X\.509 certificate/m, 'garbage');
      failed(key, 1, /^error: expected a PEM block "CERTIFICATE"/m, 'key file');
      failed(missing, 1, /^error: cannot read certificate file .*no-such-file\.pem: ENOENT/m, 'missing file');
      failed(none, 2, /takes 2 argument\(s\)[\s\S]*usage:/, 'no file');
      for (const r of [garbage, key, missing]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(count(dir, 'trust_anchors'), 2);
    });

    it('crl import: PEM and DER of the anchor CRL; a CRL of a non-anchor and garbage are refused', async () => {
      const pem = await admin(dir, 'crl', 'import', m.crl.pemPath);
      ok(pem, 'CRL PEM');
      assert.match(pem.stdout, /^imported CRL of C=JP, O=JPKI-TEST, OU=JPKI for user authentication.*: 1 revoked certificate\(s\)$/m);
      const der = await admin(dir, 'crl', 'import', m.crl.derPath);
      ok(der, 'CRL DER');
      assert.match(der.stdout, /: 1 revoked certificate\(s\)$/m);
      assert.deepEqual(
        query<{ serial: string }>(dir, 'SELECT serial FROM revoked_serials').map((r) => r.serial),
        m.crl.revokedSerials.map((s) => s.replace(/^0+/, '')),
      );
      const [foreign, garbage] = await Promise.all([admin(dir, 'crl', 'import', files.foreignCrl), admin(dir, 'crl', 'import', files.garbage)]);
      failed(foreign, 1, /^error: CRL issuer C=JP, O=Not JPKI, CN=Untrusted Test Root is not a configured trust anchor/m, 'foreign CRL');
      failed(garbage, 1, /^error: not a DER X\.509 CRL/m, 'garbage CRL');
      assert.equal(count(dir, 'crls'), 1);
      assert.equal(count(dir, 'revoked_serials'), 1);
    });

    it('residents import: the demo register (10 rows)', async () => {
      const r = await admin(dir, 'residents', 'import', DEMO_RESIDENTS);
      ok(r, 'import');
      assert.match(r.stdout, /^imported 10 resident\(s\)$/m);
      assert.equal(count(dir, 'residents'), 10);
      assert.deepEqual(query(dir, `SELECT status, support_measure FROM residents WHERE id = 'R0006'`), [{ status: 'active', support_measure: 1 }]);
    });

    it('card link: links a certificate; an unknown resident and a missing certificate are refused', async () => {
      const cert = m.residents['R0001']!.auth.certPath;
      const r = await admin(dir, 'card', 'link', '--resident', 'R0001', '--certificate', cert);
      ok(r, 'card link');
      const der = execFileSync('openssl', ['x509', '-in', cert, '-outform', 'DER']);
      const sha = createHash('sha256').update(der).digest('hex');
      assert.match(r.stdout, new RegExp(`^linked C=JP, CN=${m.residents['R0001']!.authSubjectCn} \\(sha256=${sha}\\) to resident R0001$`, 'm'));
      assert.deepEqual(query(dir, 'SELECT resident_id FROM card_links WHERE certificate_sha256 = ?', sha), [{ resident_id: 'R0001' }]);
      const [unknown, noCert] = await Promise.all([
        admin(dir, 'card', 'link', '--resident', 'R9999', '--certificate', cert),
        admin(dir, 'card', 'link', '--resident', 'R0002'),
      ]);
      failed(unknown, 1, /^error: no resident with id "R9999"; import residents first$/m, 'unknown resident');
      failed(noCert, 2, /--certificate file is required[\s\S]*usage:/, 'no certificate');
      assert.equal(count(dir, 'card_links'), 1);
    });

    it('kiosk register: the credential is the last stdout line and only its SHA-256 is stored', async () => {
      const r = await admin(dir, 'kiosk', 'register', '--name', 'Store 1', '--location', 'テスト市本町1-1');
      ok(r, 'kiosk register');
      const lines = r.stdout.trimEnd().split('\n');
      const credential = lines.at(-1)!;
      assert.match(credential, /^kiosk-[0-9a-f]{10}\.[A-Za-z0-9_-]{43}$/);
      const id = credential.split('.')[0]!;
      assert.match(lines[0]!, new RegExp(`registered kiosk ${id}`));
      const rows = query<Record<string, unknown>>(dir, 'SELECT * FROM kiosks');
      assert.equal(rows.length, 1);
      assert.deepEqual(
        { id: rows[0]!['id'], name: rows[0]!['name'], location: rows[0]!['location'], credential_sha256: rows[0]!['credential_sha256'] },
        { id, name: 'Store 1', location: 'テスト市本町1-1', credential_sha256: createHash('sha256').update(credential).digest('hex') },
      );
      const secret = credential.split('.')[1]!;
      for (const value of Object.values(rows[0]!)) assert.ok(!String(value).includes(secret), 'the secret is not stored');
      // nor anywhere else in the database files
      for (const f of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) {
        const p = join(dir, f);
        if (existsSync(p)) assert.ok(!readFileSync(p).includes(Buffer.from(secret)), `${f} holds the secret`);
      }
      const audit = query<{ details: string }>(dir, `SELECT details FROM audit_log WHERE event = 'admin.kiosk.register'`);
      assert.ok(audit.length === 1 && !audit[0]!.details.includes(secret));

      const noLocation = await admin(dir, 'kiosk', 'register', '--name', 'Store 2');
      failed(noLocation, 2, /kiosk register needs --name and --location/, 'no location');
      assert.equal(count(dir, 'kiosks'), 1);
    });

    it('audit verify: intact after all of the above; names the first tampered row', async () => {
      const rows = count(dir, 'audit_log');
      assert.ok(rows >= 8, `only ${rows} audit rows`);
      const intact = await admin(dir, 'audit', 'verify');
      ok(intact, 'audit verify');
      assert.equal(intact.stdout.trim(), `audit log intact: ${rows} row(s), no checkpoint yet`);

      const db = new BetterSqlite3(join(dir, DATABASE_FILE));
      try {
        // The triggers stop a plain UPDATE; an attacker with file access drops them first.
        assert.throws(() => db.prepare(`UPDATE audit_log SET details = '{}' WHERE seq = 3`).run(), /append-only/);
        db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
        db.prepare(`UPDATE audit_log SET details = '{"forged":true}' WHERE seq = 3`).run();
        db.prepare(`UPDATE audit_log SET actor = 'someone' WHERE seq = 5`).run();
      } finally {
        db.close();
      }
      const broken = await admin(dir, 'audit', 'verify');
      failed(broken, 1, /^audit log broken at row 3: hash does not match the row content$/m, 'tampered');
      assert.equal(broken.stdout, '');
    });
  });

  describe('municipal records and the catalogue', () => {
    let dir: string;
    const demo = (name: string) => join(DEMO_DIR, name);
    before(async () => {
      dir = join(tmp.dir, 'records');
      await init(dir);
      ok(await admin(dir, 'residents', 'import', DEMO_RESIDENTS), 'residents');
    });

    it('catalog load: the demo catalogue with its 公印; show prints what is in force; a wrong code, a bad file and a 公印 of the wrong size are refused', async () => {
      const loaded = await admin(dir, 'catalog', 'load', demo('catalog.json'));
      ok(loaded, 'catalog load');
      assert.match(loaded.stdout, /loaded the catalogue of テスト市: juminhyo, juminhyo_kisai, inkan, kazei, koseki_zenbu, koseki_kojin, koseki_fuhyo/);
      const shown = await admin(dir, 'catalog', 'show');
      ok(shown, 'catalog show');
      assert.equal(JSON.parse(shown.stdout).types.koseki_zenbu.fee, 350);
      assert.equal(count(dir, 'municipal_assets'), 1);
      const catalog = JSON.parse(readFileSync(demo('catalog.json'), 'utf8'));
      // The variants are written elsewhere: their 公印 is named by its full path.
      catalog.officialSeal.image = join(DEMO_DIR, catalog.officialSeal.image);
      const variants: [string, (c: typeof catalog) => void, RegExp][] = [
        ['other-code', (c) => (c.municipality.code = '131016'), /the catalogue is for 131016, this server issues for 999991/],
        ['bad-fee', (c) => (c.types.inkan.fee = -1), /the catalogue is not valid: [\s\S]*types\.inkan\.fee/],
        ['seal-size', (c) => (c.officialSeal.sizeMm = 24), /koin\.png: the image is 21\.0 × 21\.0 mm at its resolution, not 24 × 24 mm/],
        ['no-seal', (c) => (c.officialSeal = { image: 'nothere.png', sizeMm: 21 }), /cannot read the 公印 image nothere\.png: ENOENT/],
      ];
      for (const [name, change, pattern] of variants) {
        const copy = structuredClone(catalog);
        change(copy);
        const file = join(tmp.dir, `catalog-${name}.json`);
        writeFileSync(file, JSON.stringify(copy));
        failed(await admin(dir, 'catalog', 'load', file), 1, pattern, name);
      }
      assert.equal(JSON.parse((await admin(dir, 'catalog', 'show')).stdout).municipality.prefecture, 'テスト県', 'the loaded catalogue is still in force');
    });

    it('seals import from a folder and from a zip; tax; 戸籍 with 附票; 本籍地 利用登録', async () => {
      const seals = await admin(dir, 'seals', 'import', demo('seal-registrations.csv'), '--images', demo('seals'));
      ok(seals, 'seals');
      assert.match(seals.stdout, /imported 4 seal registration\(s\)/);
      const zip = join(tmp.dir, 'seals.zip');
      writeFileSync(zip, zipSync(Object.fromEntries(['seal-R0001.png', 'seal-R0002.png', 'seal-R0004.png', 'seal-R0010.png'].map((f) => [`scans/${f}`, readFileSync(join(DEMO_DIR, 'seals', f))]))));
      ok(await admin(dir, 'seals', 'import', demo('seal-registrations.csv'), '--images', zip), 'seals from zip');
      ok(await admin(dir, 'tax', 'import', demo('tax-records.csv')), 'tax');
      const koseki = await admin(dir, 'koseki', 'import', '--koseki', demo('koseki.csv'), '--members', demo('koseki-members.csv'), '--events', demo('koseki-events.csv'), '--fuhyo', demo('fuhyo-addresses.csv'));
      ok(koseki, 'koseki');
      assert.match(koseki.stdout, /imported 3 戸籍\(s\)/);
      ok(await admin(dir, 'registrations', 'import', demo('koseki-registrations.csv')), 'registrations');
      assert.deepEqual(
        ['seal_registrations', 'tax_records', 'koseki', 'koseki_members', 'koseki_registrations'].map((t) => count(dir, t)),
        [4, 6, 3, 7, 1],
      );
      failed(await admin(dir, 'seals', 'import', demo('seal-registrations.csv')), 2, /seals import needs --images/, 'no images');
      failed(await admin(dir, 'seals', 'import', demo('seal-registrations.csv'), '--images', join(tmp.dir, 'nothere')), 1, /cannot read the images .*nothere: ENOENT/, 'missing images');
      failed(await admin(dir, 'koseki', 'import', '--koseki', demo('koseki.csv')), 2, /--members/, 'members missing');
    });

    it('update FILE: the live-update body through the CLI; an older version is ignored and said so', async () => {
      const record = { id: 'R0007', householdId: 'H004', name: '高橋 誠', nameKana: 'タカハシ マコト', birthDate: '1968-11-03', sex: '1', address: 'テスト市港町9番9号', relationshipToHead: '世帯主' };
      const file = join(tmp.dir, 'update.json');
      writeFileSync(file, JSON.stringify({ changes: [{ kind: 'resident', record: { ...record, version: 9_000_000_000_000 } }] }));
      const applied = await admin(dir, 'update', file);
      ok(applied, 'update');
      assert.match(applied.stdout, /imported 1 record\(s\)/);
      writeFileSync(file, JSON.stringify({ changes: [{ kind: 'resident', record: { ...record, address: '古い住所', version: 1 } }] }));
      const stale = await admin(dir, 'update', file);
      ok(stale, 'stale update');
      assert.match(stale.stdout, /1 older than the stored version \(ignored\)/);
      assert.deepEqual(query(dir, `SELECT address FROM residents WHERE id = 'R0007'`), [{ address: 'テスト市港町9番9号' }]);
      writeFileSync(file, '{"changes": [{"kind": "resident"}]}');
      failed(await admin(dir, 'update', file), 1, /does not match the records contract/, 'bad update');
      writeFileSync(file, 'not json');
      failed(await admin(dir, 'update', file), 1, /the update file is not valid JSON/, 'not JSON');
    });

    it('api-client register prints the credential once and stores only its hash; revoke', async () => {
      const r = await admin(dir, 'api-client', 'register', '--name', '住民記録システム');
      ok(r, 'register');
      const credential = r.stdout.trimEnd().split('\n').at(-1)!;
      const id = credential.split('.')[0]!;
      assert.match(id, /^records-[0-9a-f]{10}$/);
      const [row] = query<{ credential_sha256: string }>(dir, 'SELECT credential_sha256 FROM api_clients WHERE id = ?', id);
      assert.equal(row!.credential_sha256, createHash('sha256').update(credential).digest('hex'));
      assert.ok(!readFileSync(join(dir, DATABASE_FILE)).includes(Buffer.from(credential.split('.')[1]!)), 'the secret is not in the database');
      ok(await admin(dir, 'api-client', 'revoke', id), 'revoke');
      failed(await admin(dir, 'api-client', 'revoke', id), 1, /no active client records-/, 'revoke twice');
      failed(await admin(dir, 'api-client', 'register'), 1, /needs a --name/, 'no name');
    });
  });

  describe('bad CSV imports: every bad line listed, nothing imported', () => {
    let dir: string;
    before(async () => {
      dir = join(tmp.dir, 'csv');
      await init(dir);
    });

    const cases: { name: string; lines: string[]; bad: number[]; pattern: RegExp }[] = [
      { name: 'wrong date', lines: [HEADER, row('A1'), row('A2', { birthDate: '1985-02-30' }), row('A3'), row('A4', { birthDate: '12/04/1985' })], bad: [3, 5], pattern: /birthDate/ },
      { name: 'bad sex', lines: [HEADER, row('B1', { sex: '3' }), row('B2'), row('B3', { sex: 'F' })], bad: [2, 4], pattern: /sex: / },
      { name: 'duplicate id', lines: [HEADER, row('C1'), row('C2'), row('C1'), row('C3'), row('C2')], bad: [4, 6], pattern: /duplicate id/ },
      { name: 'wrong field count', lines: [HEADER, row('D1'), `${row('D2')},extra`, row('D3'), 'D4,H1,only'], bad: [3, 5], pattern: /expected 12 fields/ },
      { name: 'unknown column', lines: [`${HEADER},nickname`, `${row('E1')},taro`, `${row('E2')},hana`], bad: [1], pattern: /unknown column "nickname"/ },
    ];

    it('each kind of bad row is reported with its line number', async () => {
      const results = await Promise.all(
        cases.map((c) => {
          const file = join(tmp.dir, `${c.name.replace(/ /g, '-')}.csv`);
          writeFileSync(file, c.lines.join('\r\n') + '\r\n');
          return admin(dir, 'residents', 'import', file);
        }),
      );
      for (const [i, c] of cases.entries()) {
        const r = results[i]!;
        failed(r, 1, /^error: nothing imported; fix these lines:$/m, c.name);
        const reported = [...r.stderr.matchAll(/^ {2}\S+ line (\d+): (.*)$/gm)].map((x) => Number(x[1]));
        assert.deepEqual([...new Set(reported)], c.bad, `${c.name}: ${r.stderr}`);
        for (const n of c.bad) assert.match(r.stderr, new RegExp(`line ${n}: .*${c.pattern.source}`), c.name);
        assert.equal(r.stdout, '', c.name);
      }
      assert.equal(count(dir, 'residents'), 0);
      assert.equal(query(dir, `SELECT * FROM audit_log WHERE event = 'records.update'`).length, 0);
    });

    it('a file mixing every problem lists them all, and still imports nothing', async () => {
      const file = join(tmp.dir, 'mixed.csv');
      writeFileSync(
        file,
        '\uFEFF' +
          [HEADER, row('M1'), row('M2', { birthDate: '2001-13-01' }), row('M3', { sex: 'x' }), row('M1'), 'M4,H1', row('M5'), `"M6",H1,"山田, 花子","ヤマダ\nハナコ",1990-01-01,2,a,妻,,,active,false`, row('M7', { sex: '' })].join('\n'),
      );
      const r = await admin(dir, 'residents', 'import', file);
      failed(r, 1, /nothing imported/, 'mixed');
      const reported = [...new Set([...r.stderr.matchAll(/^ {2}residents\.csv line (\d+):/gm)].map((x) => Number(x[1])))].sort((a, b) => a - b);
      // the quoted multi-line record (lines 8-9) has a line break in a name; the last row starts on line 10
      assert.deepEqual(reported, [3, 4, 5, 6, 8, 10]);
      assert.match(r.stderr, /residents\.csv line 8: nameKana: must not contain line breaks/);
      assert.equal(count(dir, 'residents'), 0);
    });

    it('a missing file is an error', async () => {
      const r = await admin(dir, 'residents', 'import', join(tmp.dir, 'nope.csv'));
      failed(r, 1, /^error: cannot read CSV file .*nope\.csv: ENOENT$/m, 'missing');
    });
  });

  describe('usage errors exit 2 with the usage text', () => {
    it('unknown commands and options, missing --data-dir', async () => {
      const dir = join(tmp.dir, 'usage');
      const results = await Promise.all([
        runCli(['frobnicate']),
        runCli([]),
        runCli(['admin', '--data-dir', dir, 'bogus', 'thing']),
        runCli(['admin', '--data-dir', dir, 'audit', 'verify', '--bogus']),
        runCli(['serve', '--data-dir', dir, '--bogus', '1']),
        runCli(['serve', '--data-dir', dir, '--port', '99999']),
      ]);
      const expected = [
        /unknown command "frobnicate"/,
        /no command given/,
        /unknown admin command "bogus thing"/,
        /Unknown option '--bogus'/,
        /Unknown option '--bogus'/,
        /--port must be 0-65535/,
      ];
      for (const [i, r] of results.entries()) {
        failed(r, 2, expected[i]!, `case ${i}`);
        assert.match(r.stderr, /^usage:$/m, `case ${i} shows the usage`);
        assert.match(r.stderr, /issuance-server admin STORE audit verify/);
        assert.doesNotMatch(r.stderr, /\n\s+at /, `case ${i}: no stack trace`);
      }
      const help = await runCli(['--help']);
      ok(help, '--help');
      assert.match(help.stdout, /^usage:/);
    });
  });
});
