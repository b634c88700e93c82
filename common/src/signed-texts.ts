/**
 * The texts that signatures cover (PROTOCOL.md "Signed messages"). The first line names the
 * purpose so that a signature made for one purpose can never be replayed for another.
 */

/** Purpose line of the card-signed login text. */
export const LOGIN_PURPOSE = 'jp-cert-issuance/login/v1';
/** Purpose line of the device-key socket authentication text. */
export const DEVICE_PURPOSE = 'jp-cert-issuance/device/v1';
/** Purpose line of the device-key print confirmation text. */
export const CONFIRM_PURPOSE = 'jp-cert-issuance/confirm/v1';

const encoder = new TextEncoder();

/** UTF-8 bytes of the login text the card signs. */
export function loginSignedText(challengeId: string, nonce: string): Uint8Array {
  return encoder.encode([LOGIN_PURPOSE, challengeId, nonce].join('\n'));
}

/** UTF-8 bytes of the socket authentication text the device key signs. */
export function deviceSignedText(nonce: string): Uint8Array {
  return encoder.encode([DEVICE_PURPOSE, nonce].join('\n'));
}

/** UTF-8 bytes of the print confirmation text the device key signs. */
export function confirmationSignedText(requestId: string, approved: boolean): Uint8Array {
  return encoder.encode([CONFIRM_PURPOSE, requestId, approved ? 'approve' : 'decline'].join('\n'));
}

/** Purpose line of the text a phone's device key signs when it registers with a pairing secret. */
export const PHONE_PAIRING_PURPOSE = 'jp-cert-issuance/phone-pairing/v1';
/** Purpose line of the WebAuthn challenge a phone's passkey signs to approve a print. */
export const PASSKEY_APPROVE_PURPOSE = 'jp-cert-issuance/passkey-approve/v1';

/** UTF-8 bytes of the registration text a phone's device key signs (proof that it holds the key it registers). */
export function phonePairingSignedText(pairingId: string, webauthnChallenge: string): Uint8Array {
  return encoder.encode([PHONE_PAIRING_PURPOSE, pairingId, webauthnChallenge].join('\n'));
}

/**
 * The WebAuthn challenge of a phone's approval: bound to the request and the decision, so that an
 * assertion made for one request (or for a decline) can never approve another.
 */
export function passkeyApprovalChallenge(requestId: string): Uint8Array {
  return encoder.encode([PASSKEY_APPROVE_PURPOSE, requestId, 'approve'].join('\n'));
}

/**
 * The short code both the PC and the phone show while pairing: six digits derived from the SHA-256
 * of the phone's device key (SPKI DER), so that the resident can see that the phone the PC is
 * about to trust is the one in their hand.
 */
export async function phoneKeyCode(spkiDer: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', spkiDer as Uint8Array<ArrayBuffer>));
  const n = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  const code = String(n % 1_000_000).padStart(6, '0');
  return `${code.slice(0, 3)} ${code.slice(3)}`;
}
