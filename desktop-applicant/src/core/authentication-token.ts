/**
 * What the login needs from a My Number card (or a smartphone JPKI token): the authentication
 * certificate and a PKCS#1 v1.5 signature over a DigestInfo. The card holds the key; the PIN was
 * verified by whoever produced this token.
 */
export interface AuthenticationToken {
  /** DER of the 利用者証明用電子証明書. */
  certificate(): Promise<Buffer>;
  /** The card's signature over a DER DigestInfo (COMPUTE DIGITAL SIGNATURE). */
  signDigestInfo(digestInfo: Uint8Array): Promise<Buffer>;
}
