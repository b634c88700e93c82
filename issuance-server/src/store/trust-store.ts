import type { Database } from 'better-sqlite3';

/** A configured trust anchor (a JPKI root). */
export interface TrustAnchor {
  sha256: string;
  subject: string;
  der: Buffer;
  notAfter: number;
}

/** The newest imported CRL of one anchor. */
export interface StoredCrl {
  anchorSha256: string;
  thisUpdate: number;
  nextUpdate: number | null;
}

/** Trust anchors, CRLs and the links from card certificates to residents. */
export class TrustStore {
  constructor(private readonly db: Database) {}

  /** Adds an anchor; false when it was already there. */
  addAnchor(a: TrustAnchor, now: number): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO trust_anchors (sha256, subject, der, not_after, added_at) VALUES (?, ?, ?, ?, ?)')
      .run(a.sha256, a.subject, a.der, a.notAfter, now);
    return r.changes === 1;
  }

  /** Every configured anchor. */
  anchors(): TrustAnchor[] {
    return this.db
      .prepare<[], { sha256: string; subject: string; der: Buffer; not_after: number }>('SELECT * FROM trust_anchors ORDER BY added_at')
      .all()
      .map((r) => ({ sha256: r.sha256, subject: r.subject, der: r.der, notAfter: r.not_after }));
  }

  /** The CRL currently in force for an anchor. */
  crlFor(anchorSha256: string): StoredCrl | null {
    const r = this.db
      .prepare<[string], { this_update: number; next_update: number | null }>('SELECT this_update, next_update FROM crls WHERE anchor_sha256 = ?')
      .get(anchorSha256);
    return r ? { anchorSha256, thisUpdate: r.this_update, nextUpdate: r.next_update } : null;
  }

  /** Replaces the anchor's CRL and its revoked serials (caller holds the transaction). */
  replaceCrl(crl: StoredCrl, der: Buffer, serials: string[], now: number): void {
    this.db.prepare('DELETE FROM crls WHERE anchor_sha256 = ?').run(crl.anchorSha256);
    this.db
      .prepare('INSERT INTO crls (anchor_sha256, this_update, next_update, der, imported_at) VALUES (?, ?, ?, ?, ?)')
      .run(crl.anchorSha256, crl.thisUpdate, crl.nextUpdate, der, now);
    const insert = this.db.prepare('INSERT OR IGNORE INTO revoked_serials (anchor_sha256, serial) VALUES (?, ?)');
    for (const s of serials) insert.run(crl.anchorSha256, s);
  }

  /** True when the anchor's CRL lists the serial. */
  isRevoked(anchorSha256: string, serial: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM revoked_serials WHERE anchor_sha256 = ? AND serial = ?').get(anchorSha256, serial);
  }

  /** Links a card certificate (by its DER hash) to a resident. */
  linkCard(link: { certificateSha256: string; residentId: string; subject: string; serial: string; notAfter: number }, now: number): void {
    this.db
      .prepare(
        `INSERT INTO card_links (certificate_sha256, resident_id, subject, serial, not_after, linked_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (certificate_sha256) DO UPDATE SET resident_id = excluded.resident_id, linked_at = excluded.linked_at`,
      )
      .run(link.certificateSha256, link.residentId, link.subject, link.serial, link.notAfter, now);
  }

  /** The resident a card certificate is linked to. */
  residentForCertificate(certificateSha256: string): string | null {
    return (
      this.db.prepare<[string], { resident_id: string }>('SELECT resident_id FROM card_links WHERE certificate_sha256 = ?').get(certificateSha256)
        ?.resident_id ?? null
    );
  }
}
