import type { SqlExecutor } from './db/sql.ts';

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
  constructor(private readonly sql: SqlExecutor) {}

  /** Adds an anchor; false when it was already there. */
  async addAnchor(a: TrustAnchor, now: number): Promise<boolean> {
    const r = await this.sql.run('INSERT INTO trust_anchors (sha256, subject, der, not_after, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      a.sha256,
      a.subject,
      a.der,
      a.notAfter,
      now,
    ]);
    if (r.changes === 1) await this.bumpGeneration();
    return r.changes === 1;
  }

  /** Every configured anchor. */
  async anchors(): Promise<TrustAnchor[]> {
    const rows = await this.sql.all<{ sha256: string; subject: string; der: Buffer; not_after: number }>('SELECT sha256, subject, der, not_after FROM trust_anchors ORDER BY added_at, sha256');
    return rows.map((r) => ({ sha256: r.sha256, subject: r.subject, der: r.der, notAfter: r.not_after }));
  }

  /**
   * A number that changes whenever anchors or CRLs change (in any process or node), so that
   * verified certificate chains can be remembered until then.
   */
  async generation(): Promise<number> {
    const r = await this.sql.get<{ value: string }>(`SELECT value FROM settings WHERE key = 'trust_generation'`);
    return Number(r?.value ?? 0);
  }

  private async bumpGeneration(): Promise<void> {
    await this.sql.run(`UPDATE settings SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'trust_generation'`);
  }

  /** The CRL currently in force for an anchor. */
  async crlFor(anchorSha256: string): Promise<StoredCrl | null> {
    const r = await this.sql.get<{ this_update: number; next_update: number | null }>('SELECT this_update, next_update FROM crls WHERE anchor_sha256 = ?', [anchorSha256]);
    return r ? { anchorSha256, thisUpdate: r.this_update, nextUpdate: r.next_update } : null;
  }

  /** Replaces the anchor's CRL and its revoked serials. */
  async replaceCrl(crl: StoredCrl, der: Buffer, serials: string[], now: number): Promise<void> {
    await this.sql.run('DELETE FROM revoked_serials WHERE anchor_sha256 = ?', [crl.anchorSha256]);
    await this.sql.run('DELETE FROM crls WHERE anchor_sha256 = ?', [crl.anchorSha256]);
    await this.sql.run('INSERT INTO crls (anchor_sha256, this_update, next_update, der, imported_at) VALUES (?, ?, ?, ?, ?)', [
      crl.anchorSha256,
      crl.thisUpdate,
      crl.nextUpdate,
      der,
      now,
    ]);
    for (const s of new Set(serials)) await this.sql.run('INSERT INTO revoked_serials (anchor_sha256, serial) VALUES (?, ?)', [crl.anchorSha256, s]);
    await this.bumpGeneration();
  }

  /** True when the anchor's CRL lists the serial. */
  async isRevoked(anchorSha256: string, serial: string): Promise<boolean> {
    return !!(await this.sql.get('SELECT 1 AS revoked FROM revoked_serials WHERE anchor_sha256 = ? AND serial = ?', [anchorSha256, serial]));
  }

  /** Links a card certificate (by its DER hash) to a resident. */
  async linkCard(link: { certificateSha256: string; residentId: string; subject: string; serial: string; notAfter: number }, now: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO card_links (certificate_sha256, resident_id, subject, serial, not_after, linked_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (certificate_sha256) DO UPDATE SET resident_id = excluded.resident_id, linked_at = excluded.linked_at`,
      [link.certificateSha256, link.residentId, link.subject, link.serial, link.notAfter, now],
    );
  }

  /** The resident a card certificate is linked to. */
  async residentForCertificate(certificateSha256: string): Promise<string | null> {
    const r = await this.sql.get<{ resident_id: string }>('SELECT resident_id FROM card_links WHERE certificate_sha256 = ?', [certificateSha256]);
    return r?.resident_id ?? null;
  }
}
