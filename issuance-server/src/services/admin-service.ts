import { generateKeyPairSync } from 'node:crypto';
import type { Clock } from '../config.ts';
import { checkpointSignatureValid, signCheckpoint, type AuditCheckpoint, type AuditVerification } from '../store/audit-log.ts';
import type { Store, Tx } from '../store/store.ts';
import { CertificateVerifier, certificateSerial, dnText, parseCertificate, pemOrDer, sha256Hex } from './certificate-verifier.ts';
import { newKioskCredential } from './kiosk-auth.ts';
import type { LifecycleService } from './lifecycle-service.ts';
import { recordUpdateRequestSchema, type RecordChange } from '@cert/common';
import { z } from 'zod';
import { CATALOG_SETTING, CatalogService, OFFICIAL_SEAL_ASSET } from './catalog.ts';
import { catalogConfigSchema, type CatalogConfig } from './catalog-config.ts';
import { parseKosekiCsv, parseRegistrationsCsv, parseResidentsCsv, parseSealsCsv, parseTaxCsv, type ImportOptions, type ImportResult, type KosekiFiles } from './record-import.ts';
import { printSizeProblem } from './png-info.ts';
import type { RecordService } from './record-service.ts';
import { ensureVapidKeys } from './push-service.ts';
import { ServiceError } from './service-error.ts';

/** An operator mistake, reported as a message and a non-zero exit. */
export class AdminError extends Error {}

/** What an import did: records stored, the same version again, or older than what is stored. */
export interface ImportSummary {
  applied: number;
  unchanged: number;
  stale: number;
}

/** The purpose under which the audit checkpoint key is kept. */
export const CHECKPOINT_KEY_PURPOSE = 'audit-checkpoint';

/** An issuance whose outcome nobody knows, as staff see it. */
export interface UnsettledIssuance {
  issuanceId: string;
  receiptNumber: string;
  certificateType: string;
  kioskId: string;
  deliveredAt: string | null;
}

/** The result of checking the audit chain and its checkpoints. */
export interface AuditReport extends AuditVerification {
  checkpoint: { seq: number; ok: boolean; reason?: string } | null;
}

/** The municipality's administrative operations behind the admin CLI. */
export class AdminService {
  private readonly verifier: CertificateVerifier;

  constructor(
    private readonly store: Store,
    private readonly lifecycle: LifecycleService,
    private readonly records: RecordService,
    private readonly clock: Clock = Date.now,
  ) {
    this.verifier = new CertificateVerifier({
      anchors: () => store.read((tx) => tx.trust.anchors()),
      isRevoked: async () => false,
      generation: () => store.read((tx) => tx.trust.generation()),
    });
  }

  private async requireInit(tx: Tx): Promise<void> {
    if (!(await tx.residents.municipality())) throw new AdminError('the data directory is not initialised; run `admin init` first');
  }

  private record(tx: Tx, event: string, subject: string | null, details: Record<string, unknown> = {}): void {
    tx.audit({ actor: 'admin', event, subject, details }, this.clock());
  }

  /** Sets up (or renames) the municipality. */
  async init(code: string, name: string): Promise<void> {
    if (!/^\d{6}$/.test(code)) throw new AdminError(`municipality code "${code}" must be the 6-digit 全国地方公共団体コード`);
    if (!name.trim()) throw new AdminError('municipality name must not be empty');
    await this.store.write(async (tx) => {
      await tx.residents.setMunicipality(code, name.trim(), this.clock());
      // The Web Push (VAPID) key pair of paired phones, kept with the data.
      await ensureVapidKeys(tx, this.clock());
      this.record(tx, 'admin.init', code, { name: name.trim() });
    });
  }

  /** Adds a JPKI root as trust anchor; returns its SHA-256 and subject. */
  async addTrustAnchor(fileBytes: Buffer): Promise<{ sha256: string; subject: string; added: boolean }> {
    const der = this.readPem(fileBytes, 'CERTIFICATE');
    const cert = this.parse(der);
    const sha256 = sha256Hex(der);
    const subject = dnText(cert.subject);
    const added = await this.store.write(async (tx) => {
      await this.requireInit(tx);
      const isNew = await tx.trust.addAnchor({ sha256, subject, der, notAfter: cert.notAfter.value.getTime() }, this.clock());
      if (isNew) this.record(tx, 'admin.trust_anchor.add', sha256, { subject });
      return isNew;
    });
    return { sha256, subject, added };
  }

  /** Imports a CRL signed by a trust anchor, replacing an older one of the same issuer. */
  async importCrl(fileBytes: Buffer): Promise<{ revoked: number; issuer: string }> {
    await this.store.read((tx) => this.requireInit(tx));
    const der = this.readPem(fileBytes, 'X509 CRL');
    let crl: Awaited<ReturnType<CertificateVerifier['parseCrl']>>;
    try {
      crl = await this.verifier.parseCrl(der);
    } catch (e) {
      throw new AdminError((e as Error).message);
    }
    return this.store.write(async (tx) => {
      const current = await tx.trust.crlFor(crl.anchorSha256);
      if (current && current.thisUpdate > crl.thisUpdate.getTime()) {
        throw new AdminError(`this CRL (thisUpdate ${crl.thisUpdate.toISOString()}) is older than the one imported (${new Date(current.thisUpdate).toISOString()})`);
      }
      await tx.trust.replaceCrl({ anchorSha256: crl.anchorSha256, thisUpdate: crl.thisUpdate.getTime(), nextUpdate: crl.nextUpdate?.getTime() ?? null }, der, crl.serials, this.clock());
      this.record(tx, 'admin.crl.import', crl.anchorSha256, { revoked: crl.serials.length, thisUpdate: crl.thisUpdate.toISOString() });
      const issuer = (await tx.trust.anchors()).find((a) => a.sha256 === crl.anchorSha256)!.subject;
      return { revoked: crl.serials.length, issuer };
    });
  }

  /** How the CSV parsers read rows now: this moment's version, the certificate font's coverage. */
  private async importOptions(): Promise<ImportOptions> {
    return { defaultVersion: this.clock(), coverage: await this.records.coverage() };
  }

  /** Applies parsed records (all or none), or lists every bad line of the files. */
  private async importRecords<T>(parsed: ImportResult<T>, toChange: (r: T) => RecordChange): Promise<ImportSummary> {
    if (!parsed.ok) {
      throw new AdminError(['nothing imported; fix these lines:', ...parsed.problems.map((p) => `  ${p.file} line ${p.line}: ${p.message}`)].join('\n'));
    }
    await this.store.read((tx) => this.requireInit(tx));
    let results;
    try {
      results = (await this.records.apply(parsed.records.map(toChange), 'admin')).results;
    } catch (e) {
      if (e instanceof ServiceError) throw new AdminError(`nothing imported: ${e.message}`);
      throw e;
    }
    return { applied: results.filter((r) => r.result === 'applied').length, unchanged: results.filter((r) => r.result === 'unchanged').length, stale: results.filter((r) => r.result === 'stale').length };
  }

  /** Imports residents from CSV: all rows or none. */
  async importResidents(text: string): Promise<ImportSummary> {
    return this.importRecords(parseResidentsCsv(text, await this.importOptions()), (record) => ({ kind: 'resident', record }));
  }

  /** Imports seal registrations from CSV with their impressions (file name → PNG bytes). */
  async importSeals(text: string, images: ReadonlyMap<string, Uint8Array>): Promise<ImportSummary> {
    return this.importRecords(parseSealsCsv(text, images, await this.importOptions()), (record) => ({ kind: 'seal', record }));
  }

  /** Imports tax records from CSV. */
  async importTax(text: string): Promise<ImportSummary> {
    return this.importRecords(parseTaxCsv(text, await this.importOptions()), (record) => ({ kind: 'tax', record }));
  }

  /** Imports 戸籍 (koseki.csv, koseki-members.csv, koseki-events.csv, fuhyo-addresses.csv) as whole records. */
  async importKoseki(files: KosekiFiles): Promise<ImportSummary> {
    return this.importRecords(parseKosekiCsv(files, await this.importOptions()), (record) => ({ kind: 'koseki', record }));
  }

  /** Imports 本籍地 利用登録 from CSV. */
  async importRegistrations(text: string): Promise<ImportSummary> {
    return this.importRecords(parseRegistrationsCsv(text, await this.importOptions()), (record) => ({ kind: 'koseki-registration', record }));
  }

  /** Applies a live-update file (the admin API's request body) through the CLI. */
  async applyUpdate(json: string): Promise<ImportSummary> {
    let body: unknown;
    try {
      body = JSON.parse(json);
    } catch {
      throw new AdminError('the update file is not valid JSON');
    }
    const parsed = recordUpdateRequestSchema.safeParse(body);
    if (!parsed.success) throw new AdminError(`the update file does not match the records contract: ${z.prettifyError(parsed.error)}`);
    return this.importRecords({ ok: true, records: parsed.data.changes }, (c) => c);
  }

  /**
   * Validates and loads the municipality's catalogue (a JSON file; its 公印 PNG is resolved next
   * to it). The municipality code must match `admin init`'s. Takes effect at once.
   */
  async loadCatalog(json: string, readFile: (name: string) => Buffer): Promise<CatalogConfig> {
    let config: CatalogConfig;
    try {
      config = catalogConfigSchema.parse(JSON.parse(json));
    } catch (e) {
      throw new AdminError(`the catalogue is not valid: ${e instanceof z.ZodError ? z.prettifyError(e) : (e as Error).message}`);
    }
    let seal: Buffer | null = null;
    if (config.officialSeal) {
      try {
        seal = readFile(config.officialSeal.image);
      } catch (e) {
        throw new AdminError(`cannot read the 公印 image ${config.officialSeal.image}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const problem = printSizeProblem(seal, config.officialSeal.sizeMm, config.officialSeal.sizeMm);
      if (problem) throw new AdminError(`${config.officialSeal.image}: ${problem}`);
    }
    const now = this.clock();
    await this.store.write(async (tx) => {
      const municipality = await tx.residents.municipality();
      if (!municipality) throw new AdminError('the data directory is not initialised; run `admin init` first');
      if (municipality.code !== config.municipality.code) throw new AdminError(`the catalogue is for ${config.municipality.code}, this server issues for ${municipality.code}`);
      await tx.residents.setMunicipality(config.municipality.code, config.municipality.name, now);
      await tx.settings.put(CATALOG_SETTING, JSON.stringify(config));
      if (seal) await tx.records.putAsset(OFFICIAL_SEAL_ASSET, seal, sha256Hex(seal), now);
      this.record(tx, 'admin.catalog.load', config.municipality.code, { types: Object.keys(config.types) });
    });
    return config;
  }

  /** The catalogue in force (the built-in default while none is loaded). */
  async catalog(): Promise<CatalogConfig | null> {
    return this.store.read((tx) => new CatalogService(this.store).config(tx));
  }

  /** Issues a credential for a resident-records system (shown once). */
  registerApiClient(name: string): Promise<{ id: string; credential: string }> {
    if (!name.trim()) throw new AdminError('the client needs a --name');
    return this.records.registerClient(name.trim());
  }

  /** Revokes a resident-records system's credential. */
  async revokeApiClient(id: string): Promise<void> {
    if (!(await this.records.revokeClient(id))) throw new AdminError(`no active client ${id}`);
  }

  /** Links a card's authentication certificate to a resident. */
  async linkCard(residentId: string, fileBytes: Buffer): Promise<{ sha256: string; subject: string }> {
    const der = this.readPem(fileBytes, 'CERTIFICATE');
    const cert = this.parse(der);
    const link = { certificateSha256: sha256Hex(der), residentId, subject: dnText(cert.subject), serial: certificateSerial(cert), notAfter: cert.notAfter.value.getTime() };
    await this.store.write(async (tx) => {
      await this.requireInit(tx);
      if (!(await tx.residents.get(residentId))) throw new AdminError(`no resident with id "${residentId}"; import residents first`);
      await tx.trust.linkCard(link, this.clock());
      this.record(tx, 'admin.card.link', residentId, { certificate: link.certificateSha256 });
    });
    return { sha256: link.certificateSha256, subject: link.subject };
  }

  /** Registers a kiosk; the credential is returned once and only its hash is kept. */
  async registerKiosk(name: string, location: string): Promise<{ id: string; credential: string }> {
    if (!name.trim() || !location.trim()) throw new AdminError('kiosk name and location must not be empty');
    const k = newKioskCredential();
    await this.store.write(async (tx) => {
      await this.requireInit(tx);
      await tx.kiosks.add({ id: k.id, name: name.trim(), location: location.trim(), credentialSha256: k.credentialSha256 }, this.clock());
      this.record(tx, 'admin.kiosk.register', k.id, { name: name.trim() });
    });
    return { id: k.id, credential: k.credential };
  }

  /** Issuances delivered to a kiosk whose print result never arrived. */
  async unsettledIssuances(): Promise<UnsettledIssuance[]> {
    const rows = await this.store.read((tx) => tx.applications.unsettled());
    return rows.map((r) => ({
      issuanceId: r.id,
      receiptNumber: r.receiptNumber,
      certificateType: r.certificateType,
      kioskId: r.kioskId,
      deliveredAt: r.deliveredAt === null ? null : new Date(r.deliveredAt).toISOString(),
    }));
  }

  /**
   * Staff settle an unknown outcome after checking with the store: `printed` makes the receipt
   * final as printed; `not-printed` returns it to the resident (or expires it). Audited.
   */
  async settleIssuance(issuanceId: string, outcome: 'printed' | 'not-printed', note?: string): Promise<{ status: string }> {
    try {
      return await this.store.write(async (tx) => {
        const to = outcome === 'printed' ? 'printed' : 'print_failed';
        const moved = await this.lifecycle.moveAttempt(tx, issuanceId, ['outcome_unknown'], to, 'admin', this.clock(), { detail: `settled by staff: ${outcome}${note ? ` (${note})` : ''}` });
        this.record(tx, 'admin.issuance.settle', issuanceId, { outcome });
        return { status: moved.status };
      });
    } catch (e) {
      if (e instanceof ServiceError) throw new AdminError(e.code === 'not_found' ? `no issuance ${issuanceId}` : `issuance ${issuanceId} is not awaiting settlement (${e.message})`);
      throw e;
    }
  }

  /** Signs and stores a checkpoint of the audit chain's head (the newest one again when nothing was appended since). */
  async checkpointAudit(now: Date = new Date(this.clock())): Promise<AuditCheckpoint | null> {
    // Made on first use, so that data directories from before checkpoints existed get one too.
    const pair = generateKeyPairSync('ed25519');
    return this.store.write(async (tx) => {
      const head = await tx.auditLog.head();
      if (!head) return null;
      const key = await tx.keys.getOrInsert(
        { purpose: CHECKPOINT_KEY_PURPOSE, privateDer: pair.privateKey.export({ format: 'der', type: 'pkcs8' }), publicDer: pair.publicKey.export({ format: 'der', type: 'spki' }) },
        now.getTime(),
      );
      const latest = await tx.auditLog.latestCheckpoint();
      if (latest?.seq === head.seq) return latest;
      const checkpoint = signCheckpoint(head, now, key.privateDer);
      await tx.auditLog.addCheckpoint(checkpoint);
      return checkpoint;
    });
  }

  /**
   * Verifies the chain, then that it still reaches the given checkpoint (an exported one the
   * operator kept elsewhere) or else the newest stored one: deleting the newest rows breaks that.
   */
  async verifyAudit(external?: AuditCheckpoint): Promise<AuditReport> {
    return this.store.read(async (tx) => {
      const chain = await tx.auditLog.verify();
      const checkpoint = external ?? (await tx.auditLog.latestCheckpoint());
      if (!checkpoint || chain.firstBad) return { ...chain, checkpoint: null };
      const key = await tx.keys.get(CHECKPOINT_KEY_PURPOSE);
      const fail = (reason: string) => ({ ...chain, checkpoint: { seq: checkpoint.seq, ok: false, reason } });
      if (!key || !checkpointSignatureValid(checkpoint, key.publicDer)) return fail('the checkpoint signature does not verify with this server\'s key');
      if (!chain.head || chain.head.seq < checkpoint.seq) return fail(`the log ends at row ${chain.head?.seq ?? 0}, before the checkpoint's row ${checkpoint.seq}: rows were removed`);
      if ((await tx.auditLog.hashAt(checkpoint.seq)) !== checkpoint.hash) return fail(`row ${checkpoint.seq} no longer has the checkpoint's hash`);
      return { ...chain, checkpoint: { seq: checkpoint.seq, ok: true } };
    });
  }

  private readPem(bytes: Buffer, label: string): Buffer {
    try {
      return pemOrDer(bytes, label);
    } catch (e) {
      throw new AdminError((e as Error).message);
    }
  }

  private parse(der: Buffer): ReturnType<typeof parseCertificate> {
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new AdminError((e as Error).message);
    }
  }
}
