// The municipality's catalogue and records beyond the resident register, loaded into a running
// rig through the server's own admin service (catalogue JSON, 戸籍, tax and seal CSVs), as an
// operator would with the admin CLI: every certificate type on offer, one of them outside its
// service hours now, and the 山田 household's 戸籍, tax years and seal.
import { deflateSync } from 'node:zlib';
import type { CertificateType } from '@cert/common';
import type { RunningServer } from 'issuance-server';

/** A rig's server, whose admin service loads what an operator would. */
interface WithServer {
  server: RunningServer;
}

/** Fee (yen per copy) and maximum copies of each type in the test catalogue. */
export const TEST_FEES: Record<CertificateType, { fee: number; maxCopies: number }> = {
  juminhyo: { fee: 200, maxCopies: 5 },
  juminhyo_kisai: { fee: 250, maxCopies: 5 },
  inkan: { fee: 300, maxCopies: 5 },
  kazei: { fee: 350, maxCopies: 3 },
  koseki_zenbu: { fee: 450, maxCopies: 5 },
  koseki_kojin: { fee: 400, maxCopies: 5 },
  koseki_fuhyo: { fee: 150, maxCopies: 5 },
};

/** The type the test catalogue offers only at hours that exclude the time the catalogue is made. */
export const CLOSED_NOW_TYPE: CertificateType = 'koseki_fuhyo';

const tokyo = (at: number, options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo', ...options }).format(new Date(at));

/** The current fiscal year's predecessor and the one before it (both on offer since long ago). */
export function testFiscalYears(at = Date.now()): { recorded: number; unrecorded: number } {
  const year = Number(tokyo(at, { year: 'numeric' }));
  return { recorded: year - 1, unrecorded: year - 2 };
}

/**
 * Weekday service hours at least three hours away from `at` on both sides, so that a test run
 * never crosses into them: the afternoon and evening before noon, the early morning after (and
 * at weekends none at all).
 */
export function hoursExcluding(at = Date.now()): { days: string[]; from: string; to: string } {
  const hour = Number(tokyo(at, { hour: '2-digit', hourCycle: 'h23' }));
  const days = ['mon', 'tue', 'wed', 'thu', 'fri'];
  return hour < 12 ? { days, from: '15:00', to: '23:00' } : { days, from: '02:00', to: '09:00' };
}

/**
 * Loads a catalogue offering all seven types (fees from {@link TEST_FEES}) and the two fiscal
 * years. Tests run at any hour and on any day: every type but {@link CLOSED_NOW_TYPE} is issued
 * round the clock, and no day of the year is closed.
 */
export async function loadTestCatalog(rig: WithServer, at = Date.now()): Promise<void> {
  const { recorded, unrecorded } = testFiscalYears(at);
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const types = Object.fromEntries(
    Object.entries(TEST_FEES).map(([type, t]) => [
      type,
      {
        ...t,
        closedDays: [],
        serviceHours: [type === CLOSED_NOW_TYPE ? hoursExcluding(at) : { days, from: '00:00', to: '24:00' }],
        ...(type === 'kazei' ? { fiscalYears: [{ year: recorded, availableFrom: `${recorded}-06-01` }, { year: unrecorded, availableFrom: `${unrecorded}-06-01` }] } : {}),
      },
    ]),
  );
  const catalog = {
    municipality: { code: '999991', name: 'テスト市', prefecture: '東京都' },
    signers: [{ role: 'head', title: '東京都テスト市長', name: '試験 一郎', from: '2000-01-01' }],
    types,
  };
  await rig.server.context.admin.loadCatalog(JSON.stringify(catalog), (name) => {
    throw new Error(`the test catalogue names no file (${name})`);
  });
}

/** Persons of the 山田 戸籍 (K001) as the 戸籍 lists them; 次郎 left it (除籍). */
export const YAMADA_KOSEKI = [
  { seq: 1, residentId: 'R0001', surname: '山田', givenName: '太郎', birthDate: '1985-04-12', sex: '1', spouseRole: '夫', relationship: '長男', removed: false },
  { seq: 2, residentId: 'R0002', surname: '山田', givenName: '花子', birthDate: '1987-09-30', sex: '2', spouseRole: '妻', relationship: '長女', removed: false },
  { seq: 3, residentId: 'R0003', surname: '山田', givenName: '一郎', birthDate: '2015-01-05', sex: '1', spouseRole: '', relationship: '長男', removed: false },
  { seq: 4, residentId: '', surname: '山田', givenName: '次郎', birthDate: '2017-06-20', sex: '1', spouseRole: '', relationship: '二男', removed: true },
] as const;

/** Imports the 山田 戸籍 (本籍 here) with its members and one 附票 address each. */
export async function importYamadaKoseki(rig: WithServer): Promise<void> {
  const members = YAMADA_KOSEKI.map((m) =>
    ['K001', m.seq, m.residentId, m.surname, m.givenName, m.birthDate, m.sex, m.spouseRole, m.relationship, m.removed, m.removed ? '2019-03-01' : ''].join(','),
  );
  await rig.server.context.admin.importKoseki({
    koseki: 'kosekiId,honseki,headSurname,headGivenName\nK001,テスト市本町一丁目2番地,山田,太郎\n',
    members: ['kosekiId,seq,residentId,surname,givenName,birthDate,sex,spouseRole,relationship,removed,removedOn', ...members].join('\n') + '\n',
    fuhyo: ['kosekiId,seq,order,address,addressSince', ...YAMADA_KOSEKI.map((m) => `K001,${m.seq},1,テスト市本町一丁目2番3号,2016-04-01`)].join('\n') + '\n',
  });
}

/** Imports a taxed assessment of `residentId` for `fiscalYear` (income of the year before). */
export async function importTaxYear(rig: WithServer, residentId: string, fiscalYear: number): Promise<void> {
  await rig.server.context.admin.importTax(
    'residentId,fiscalYear,incomeYear,status,addressOnJan1,nameOnJan1,salaryRevenue,salaryIncome,totalIncome,annualTax\n' +
      `${residentId},${fiscalYear},${fiscalYear - 1},taxed,テスト市本町一丁目2番3号,山田 太郎,5000000,3560000,3560000,180000\n`,
  );
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

/** A square greyscale PNG of `mm` millimetres at 600 dpi: a black ring, as a seal impression. */
export function sealImpressionPng(mm: number): Buffer {
  const ppm = Math.round(600 / 0.0254);
  const side = Math.round((mm / 1000) * ppm);
  const rows: Buffer[] = [];
  const r = side / 2;
  for (let y = 0; y < side; y++) {
    const row = Buffer.alloc(side + 1, 0xff);
    row[0] = 0; // filter: none
    for (let x = 0; x < side; x++) {
      const d = Math.hypot(x - r, y - r);
      if (d < r && d > r - side / 12) row[x + 1] = 0;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const phys = Buffer.alloc(9);
  phys.writeUInt32BE(ppm, 0);
  phys.writeUInt32BE(ppm, 4);
  phys[8] = 1; // pixels per metre
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('pHYs', phys),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Imports (or changes) the seal registration of `residentId`: an 18 mm impression, `status` as given. */
export async function importSeal(rig: WithServer, residentId: string, status: 'active' | 'abolished' | 'invalidated'): Promise<void> {
  const changed = status === 'active' ? '' : '2020-01-01';
  await rig.server.context.admin.importSeals(
    'residentId,registrationNumber,registeredOn,status,statusChangedOn,sealImageFile,sealWidthMm,sealHeightMm\n' + `${residentId},S-${residentId},2010-04-01,${status},${changed},seal.png,18,18\n`,
    new Map([['seal.png', sealImpressionPng(18)]]),
  );
}
