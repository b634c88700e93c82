import type { Database } from 'better-sqlite3';
import type { AuditLog } from '../store/audit-log.ts';
import type { KioskStore } from '../store/kiosk-store.ts';
import type { ResidentStore } from '../store/resident-store.ts';
import type { TrustStore } from '../store/trust-store.ts';
import { CertificateVerifier, certificateSerial, dnText, parseCertificate, pemOrDer, sha256Hex } from './certificate-verifier.ts';
import { newKioskCredential } from './kiosk-auth.ts';
import { parseResidentCsv } from './resident-import.ts';

/** An operator mistake, reported as a message and a non-zero exit. */
export class AdminError extends Error {}

/** The municipality's administrative operations behind the admin CLI. */
export class AdminService {
  private readonly verifier: CertificateVerifier;

  constructor(
    private readonly db: Database,
    private readonly residents: ResidentStore,
    private readonly trust: TrustStore,
    private readonly kiosks: KioskStore,
    private readonly audit: AuditLog,
  ) {
    this.verifier = new CertificateVerifier(() => trust.anchors(), () => false);
  }

  private requireInit(): void {
    if (!this.residents.municipality()) throw new AdminError('the data directory is not initialised; run `admin init` first');
  }

  private record(event: string, subject: string | null, details: Record<string, unknown> = {}): void {
    this.audit.append({ actor: 'admin', event, subject, details });
  }

  /** Sets up (or renames) the municipality. */
  init(code: string, name: string): void {
    if (!/^\d{6}$/.test(code)) throw new AdminError(`municipality code "${code}" must be the 6-digit 全国地方公共団体コード`);
    if (!name.trim()) throw new AdminError('municipality name must not be empty');
    this.db.transaction(() => {
      this.residents.setMunicipality(code, name.trim(), Date.now());
      this.record('admin.init', code, { name: name.trim() });
    })();
  }

  /** Adds a JPKI root as trust anchor; returns its SHA-256 and subject. */
  addTrustAnchor(fileBytes: Buffer): { sha256: string; subject: string; added: boolean } {
    this.requireInit();
    const der = this.readPem(fileBytes, 'CERTIFICATE');
    const cert = this.parse(der);
    const sha256 = sha256Hex(der);
    const subject = dnText(cert.subject);
    const added = this.db.transaction(() => {
      const isNew = this.trust.addAnchor({ sha256, subject, der, notAfter: cert.notAfter.value.getTime() }, Date.now());
      if (isNew) this.record('admin.trust_anchor.add', sha256, { subject });
      return isNew;
    })();
    return { sha256, subject, added };
  }

  /** Imports a CRL signed by a trust anchor, replacing an older one of the same issuer. */
  async importCrl(fileBytes: Buffer): Promise<{ revoked: number; issuer: string }> {
    this.requireInit();
    const der = this.readPem(fileBytes, 'X509 CRL');
    let crl: Awaited<ReturnType<CertificateVerifier['parseCrl']>>;
    try {
      crl = await this.verifier.parseCrl(der);
    } catch (e) {
      throw new AdminError((e as Error).message);
    }
    const current = this.trust.crlFor(crl.anchorSha256);
    if (current && current.thisUpdate > crl.thisUpdate.getTime()) {
      throw new AdminError(`this CRL (thisUpdate ${crl.thisUpdate.toISOString()}) is older than the one imported (${new Date(current.thisUpdate).toISOString()})`);
    }
    this.db.transaction(() => {
      this.trust.replaceCrl({ anchorSha256: crl.anchorSha256, thisUpdate: crl.thisUpdate.getTime(), nextUpdate: crl.nextUpdate?.getTime() ?? null }, der, crl.serials, Date.now());
      this.record('admin.crl.import', crl.anchorSha256, { revoked: crl.serials.length, thisUpdate: crl.thisUpdate.toISOString() });
    })();
    const issuer = this.trust.anchors().find((a) => a.sha256 === crl.anchorSha256)!.subject;
    return { revoked: crl.serials.length, issuer };
  }

  /** Imports residents from CSV: all rows or none. */
  importResidents(text: string): { imported: number } {
    this.requireInit();
    const { residents, problems } = parseResidentCsv(text);
    if (problems.length) {
      throw new AdminError(['nothing imported; fix these lines:', ...problems.map((p) => `  line ${p.line}: ${p.message}`)].join('\n'));
    }
    this.db.transaction(() => {
      const now = Date.now();
      for (const r of residents) this.residents.upsert(r, now);
      this.record('admin.residents.import', null, { count: residents.length });
    })();
    return { imported: residents.length };
  }

  /** Links a card's authentication certificate to a resident. */
  linkCard(residentId: string, fileBytes: Buffer): { sha256: string; subject: string } {
    this.requireInit();
    if (!this.residents.get(residentId)) throw new AdminError(`no resident with id "${residentId}"; import residents first`);
    const der = this.readPem(fileBytes, 'CERTIFICATE');
    const cert = this.parse(der);
    const link = { certificateSha256: sha256Hex(der), residentId, subject: dnText(cert.subject), serial: certificateSerial(cert), notAfter: cert.notAfter.value.getTime() };
    this.db.transaction(() => {
      this.trust.linkCard(link, Date.now());
      this.record('admin.card.link', residentId, { certificate: link.certificateSha256 });
    })();
    return { sha256: link.certificateSha256, subject: link.subject };
  }

  /** Registers a kiosk; the credential is returned once and only its hash is kept. */
  registerKiosk(name: string, location: string): { id: string; credential: string } {
    this.requireInit();
    if (!name.trim() || !location.trim()) throw new AdminError('kiosk name and location must not be empty');
    const k = newKioskCredential();
    this.db.transaction(() => {
      this.kiosks.add({ id: k.id, name: name.trim(), location: location.trim(), credentialSha256: k.credentialSha256 }, Date.now());
      this.record('admin.kiosk.register', k.id, { name: name.trim() });
    })();
    return { id: k.id, credential: k.credential };
  }

  /** Verifies the audit chain. */
  verifyAudit(): ReturnType<AuditLog['verify']> {
    return this.audit.verify();
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
