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
