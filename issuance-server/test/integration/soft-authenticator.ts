// A software WebAuthn platform authenticator for the server tests: real P-256 keys, real CBOR
// attestation objects ("none") and real assertion signatures, with switches for what a broken or
// hostile client would send (no user verification, another origin or RP ID, a stale counter).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** The CBOR encoding (RFC 8949) of integers, text, byte strings and maps: what WebAuthn needs. */
function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();
const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** What a client can get wrong on purpose. */
export interface AuthenticatorQuirks {
  userVerified?: boolean;
  origin?: string;
  rpId?: string;
  /** The signature counter to report (default: one more than last time). */
  counter?: number;
}

/** One passkey held by the software authenticator. */
export class SoftPasskey {
  private readonly key: KeyObject;
  readonly publicJwk: { x: string; y: string };
  readonly id = randomBytes(16);
  private counter = 0;

  constructor(
    readonly origin: string,
    readonly rpId: string,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.key = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    this.publicJwk = { x: jwk.x!, y: jwk.y! };
  }

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), c, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create() as RegistrationResponseJSON. */
  register(challenge: string, q: AuthenticatorQuirks = {}): Record<string, unknown> {
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin: q.origin ?? this.origin, crossOrigin: false }));
    const cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(this.publicJwk.x, 'base64url')],
        [-3, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.id, cose]);
    const flags = 0x01 | (q.userVerified === false ? 0 : 0x04) | 0x40;
    const authData = this.authData(q.rpId ?? this.rpId, flags, 0, attested);
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ['internal'] },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get() as AuthenticationResponseJSON, over `challenge` (bytes). */
  assert(challenge: Uint8Array, q: AuthenticatorQuirks = {}): Record<string, unknown> {
    this.counter = q.counter ?? this.counter + 1;
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: b64url(challenge), origin: q.origin ?? this.origin, crossOrigin: false }));
    const flags = 0x01 | (q.userVerified === false ? 0 : 0x04);
    const authData = this.authData(q.rpId ?? this.rpId, flags, this.counter);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.key);
    return {
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature) },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }
}
