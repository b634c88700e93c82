// The applicant API behind the renderer, shared by both hosts (Electron main and the web-mode
// host): one handler per channel of `applicantChannels`, the error mapping, and the core events
// the renderer listens to.
import { refusalReasonSchema, type applicantChannels, type applicantEvents, type ChannelHandlers, type IpcError } from '@cert/common';
import { ContractError, NetworkError, type ErrorMapper } from '@cert/common/node';
import QRCode from 'qrcode';
import type { ApplicantCore, ApplicantCoreEvents } from '../core/applicant-core.ts';
import { CardError } from '../core/card/card-errors.ts';

/** A precondition the host checks before it calls the core; `code` is what the UI explains. */
export class HostError extends Error {
  constructor(
    readonly code: 'no_server' | 'not_signed_in' | 'socket_offline',
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/** Text (a receipt number, a pairing URL) as a QR code (SVG data URL); the renderer shows it as an <img>. */
export async function qrDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/** The handlers of every applicant channel, over one core. */
export function applicantHandlers(core: ApplicantCore): ChannelHandlers<typeof applicantChannels> {
  const requireServer = () => {
    if (!core.settings().serverUrl) throw new HostError('no_server', 'no server is set; connect to the municipality first');
  };
  const requireSession = () => {
    if (!core.session) throw new HostError('not_signed_in', 'confirm your identity with the card first');
  };
  const sessionView = () => (core.session ? { displayName: core.session.resident.displayName, expiresAt: core.session.expiresAt } : null);
  return {
    'settings.get': () => core.settings(),
    'server.connect': (url) => core.connect(url),
    'catalog.get': () => {
      requireServer();
      return core.catalog();
    },
    'card.status': () => core.card.status,
    'card.refresh': () => core.card.refresh(),
    'auth.login': async (pin, confirmLastTry) => {
      requireServer();
      await core.login(pin, confirmLastTry);
      return sessionView()!;
    },
    'auth.session': () => sessionView(),
    'connection.state': () => core.connectionState,
    'subjects.get': () => {
      requireSession();
      return core.subjects();
    },
    'applications.apply': (req) => {
      requireSession();
      return core.apply(req);
    },
    'applications.list': () => core.listReceipts(),
    'applications.cancel': async (applicationId) => {
      requireSession();
      await core.cancel(applicationId);
      return null;
    },
    'receipt.qr': (receiptNumber) => qrDataUrl(receiptNumber),
    'confirmations.pending': () => core.pendingConfirmations(),
    'confirmations.respond': (requestId, approved) => {
      if (core.connectionState !== 'authenticated') throw new HostError('socket_offline', 'not connected to the server; answer again when the connection is back');
      core.respond(requestId, approved);
      return null;
    },
    'phones.pair': async () => {
      requireSession();
      const pairing = await core.phoneApi().startPairing();
      return { ...pairing, qr: await qrDataUrl(pairing.url) };
    },
    'phones.pairing': (pairingId) => {
      requireSession();
      return core.phoneApi().pairing(pairingId);
    },
    'phones.confirm': (pairingId) => {
      requireSession();
      return core.phoneApi().confirmPairing(pairingId);
    },
    'phones.cancel': (pairingId) => {
      requireSession();
      return core.phoneApi().cancelPairing(pairingId);
    },
    'phones.list': () => {
      requireSession();
      return core.phoneApi().phones();
    },
    'phones.rename': async (phoneId, label) => {
      requireSession();
      await core.phoneApi().renamePhone(phoneId, label);
      return null;
    },
    'phones.remove': async (phoneId) => {
      requireSession();
      await core.phoneApi().removePhone(phoneId);
      return null;
    },
  };
}

/** Turns what a handler threw into the IpcError the renderer explains (codes in applicant-strings). */
export function toApplicantIpcError(err: unknown): IpcError {
  if (err instanceof CardError) return { code: err.kind, message: err.message, ...(err.triesLeft !== undefined ? { triesLeft: err.triesLeft } : {}) };
  if (err instanceof ContractError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
      ...(err.status === 403 && refusalReasonSchema.safeParse(err.code).success ? { refusal: true } : {}),
    };
  }
  if (err instanceof NetworkError) return { code: 'server_unreachable', message: err.message };
  if (err instanceof HostError) return { code: err.code, message: err.message };
  return { code: 'unexpected', message: (err as Error)?.message ?? String(err) };
}

/** The error mapping of a host, which also logs each failure (what the resident saw, and why). */
export function loggedErrorMapper(log: (msg: string) => void): ErrorMapper {
  return (err) => {
    const e = toApplicantIpcError(err);
    log(`call failed: ${e.code}: ${e.message}`);
    return e;
  };
}

/** The core events the renderer receives, in the order the core emits them. */
const FORWARDED = ['card', 'connection', 'confirmation-request', 'confirmation-closed', 'receipts'] as const satisfies readonly (keyof ApplicantCoreEvents & keyof typeof applicantEvents)[];

/** Forwards the core's events to the renderer(s) through `emit`; returns the unhook function. */
export function forwardCoreEvents(core: ApplicantCore, emit: (event: keyof typeof applicantEvents, payload: unknown) => void): () => void {
  const hooks = FORWARDED.map((event) => {
    const listener = (payload: unknown) => emit(event, payload);
    core.on(event, listener);
    return () => core.off(event, listener);
  });
  return () => hooks.forEach((unhook) => unhook());
}
