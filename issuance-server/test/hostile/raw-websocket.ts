// A WebSocket client that can break the protocol on purpose: it sends frames byte by byte as
// told (unmasked, reserved bits, bad lengths, bad opcodes …), which no real client library
// does, and records what the server sends back. Only the fuzz test needs it.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A frame the server sent (servers never mask). */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** How to build one client frame; every field can be wrong on purpose. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  /** RSV1–3 as the 3 bits after FIN. */
  rsv?: number;
  /** Clients must mask; false sends the payload in the clear. */
  mask?: boolean;
  /** A length field that disagrees with the payload (e.g. 2^63 − 1). */
  declaredLength?: bigint;
}

/** Encodes a client frame as `spec` says, right or wrong. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const mask = spec.mask ?? true;
  const length = spec.declaredLength ?? BigInt(payload.length);
  const head = [((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(length);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/** A raw WebSocket connection after a successful handshake. */
export class RawWebSocket {
  readonly frames: ServerFrame[] = [];
  private buffer = Buffer.alloc(0);
  private readonly listeners = new Set<() => void>();
  /** Resolves with the close code the server sent (null if it sent none) once the TCP connection ends. */
  readonly closed: Promise<number | null>;
  private ended = false;

  private constructor(
    private readonly socket: Socket,
    rest: Buffer,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        const close = this.frames.find((f) => f.opcode === 0x8);
        resolve(close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : null);
        this.notify();
      });
    });
    socket.on('error', () => {
      /* reported through close */
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    if (rest.length) this.onData(rest);
  }

  /** Connects to `path` on 127.0.0.1:`port` and completes the opening handshake (throws unless 101). */
  static open(port: number, path: string, timeoutMs = 5000): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error('handshake timeout')), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        clearTimeout(timer);
        const status = head.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`handshake refused: ${status.split('\r\n')[0]}`));
        resolve(new RawWebSocket(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.on('error', fail);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      );
    });
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.buffer.length < 2) break;
      const opcode = this.buffer[0]! & 0x0f;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) break;
      this.frames.push({ opcode, payload: this.buffer.subarray(offset, offset + length) });
      this.buffer = this.buffer.subarray(offset + length);
    }
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** True once the connection has ended. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends one frame built from `spec`. */
  send(spec: FrameSpec): void {
    if (!this.ended) this.socket.write(encodeFrame(spec));
  }

  /** Sends a masked text frame. */
  sendText(text: string): void {
    this.send({ opcode: 0x1, payload: Buffer.from(text) });
  }

  /** Waits until the server has sent a frame matching `where` after the first `from` frames, or the connection ended; null then. */
  async waitFrame(where: (f: ServerFrame) => boolean, from: number, timeoutMs = 5000): Promise<ServerFrame | null> {
    const find = () => this.frames.slice(from).find(where) ?? null;
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = find();
        if (f || this.ended) {
          done();
          resolve(f);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no frame from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Closes the TCP connection without ceremony. */
  destroy(): void {
    this.socket.destroy();
  }
}
