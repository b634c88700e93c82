// USB barcode/QR scanners act as keyboards: they type a whole code within milliseconds and end
// it with Enter. People never type that fast, so the timing tells a scan from typing. No DOM:
// fed with key names and event timestamps, unit-tested in Node.

/** Options of {@link ScannerBurst}. */
export interface ScannerBurstOptions {
  /** Longest gap between two keys of one scan (default 50 ms; scanners type every 2-20 ms). */
  maxGapMs?: number;
  /** Fewest characters a scan has (default 12, a receipt number's length). */
  minLength?: number;
}

// Keys a scanner may send around characters (Shift for capitals) without breaking the burst.
const MODIFIERS = new Set(['Shift', 'CapsLock']);

/** Watches keystrokes; {@link feed} returns the scanned text when a burst ends with Enter. */
export class ScannerBurst {
  private buffer = '';
  private last = Number.NEGATIVE_INFINITY;
  private readonly maxGapMs: number;
  private readonly minLength: number;

  constructor(options: ScannerBurstOptions = {}) {
    this.maxGapMs = options.maxGapMs ?? 50;
    this.minLength = options.minLength ?? 12;
  }

  /** Feeds one keydown (`key` as in KeyboardEvent.key, `timeStamp` in ms); returns a scan or null. */
  feed(key: string, timeStamp: number): string | null {
    if (MODIFIERS.has(key)) return null;
    const quick = timeStamp - this.last <= this.maxGapMs;
    this.last = timeStamp;
    if (key === 'Enter') {
      const scanned = quick && this.buffer.length >= this.minLength ? this.buffer : null;
      this.buffer = '';
      return scanned;
    }
    if (key.length !== 1) {
      this.buffer = '';
      return null;
    }
    this.buffer = quick ? this.buffer + key : key;
    return null;
  }
}
