import type { VerifyResponse } from '@cert/common';
import type { Store } from '../store/store.ts';

/** What anyone may ask without logging in: the municipality and whether a paper certificate is genuine. */
export class PublicService {
  constructor(private readonly store: Store) {}

  /**
   * Reads the database once, so that health checks (a load balancer's, the clients' failover)
   * see a node that lost its database as unavailable (503) rather than healthy.
   */
  async checkDatabase(): Promise<void> {
    await this.store.read((tx) => tx.residents.municipality());
  }

  /**
   * Looks up a verification code. A document counts as issued once delivered to a kiosk
   * (printed, printing, or with an outcome nobody knows yet — the paper may exist); a
   * document whose print failed was never issued.
   */
  async verify(code: string): Promise<VerifyResponse | null> {
    return this.store.read(async (tx) => {
      const doc = await tx.applications.issuedDocument(code.trim().toUpperCase());
      const municipality = await tx.residents.municipality();
      if (!doc || !municipality || !['printed', 'delivered', 'outcome_unknown'].includes(doc.attemptStatus)) return null;
      return { valid: true, certificateType: doc.certificateType, issuedAt: new Date(doc.issuedAt).toISOString(), municipality, documentSha256: doc.documentSha256 };
    });
  }
}
