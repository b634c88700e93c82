// The admin code that lets staff leave the locked-down shell. Compared in constant time (over
// SHA-256 digests, so the lengths do not leak either) and locked for a while after wrong tries,
// because anyone standing at the kiosk can type on its keypad.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Why an admin exit was refused; the code is what the UI translates. */
export class AdminExitError extends Error {
  constructor(
    readonly code: 'admin_exit_disabled' | 'admin_code_wrong' | 'admin_locked',
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AdminExitError';
  }
}

/** Options of {@link AdminGate}. */
export interface AdminGateOptions {
  /** Wrong codes in a row before the lock (default 5). */
  maxAttempts?: number;
  /** How long the lock lasts (default 60 s). */
  lockoutMs?: number;
  now?: () => number;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Checks admin codes; `code` null means the shell cannot be left from the screen. */
export class AdminGate {
  private readonly expected: Buffer | null;
  private failures = 0;
  private lockedUntil = 0;
  private readonly maxAttempts: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;

  constructor(code: string | null, options: AdminGateOptions = {}) {
    this.expected = code === null ? null : digest(code);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.lockoutMs = options.lockoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Returns when `given` is the admin code; throws {@link AdminExitError} otherwise. */
  check(given: string): void {
    if (this.expected === null) throw new AdminExitError('admin_exit_disabled', 'no admin code is configured on this kiosk');
    const now = this.now();
    if (now < this.lockedUntil) {
      const seconds = Math.ceil((this.lockedUntil - now) / 1000);
      throw new AdminExitError('admin_locked', `too many wrong admin codes; try again in ${seconds} s`, seconds);
    }
    if (timingSafeEqual(digest(given), this.expected)) {
      this.failures = 0;
      return;
    }
    this.failures++;
    if (this.failures >= this.maxAttempts) {
      this.failures = 0;
      this.lockedUntil = now + this.lockoutMs;
      const seconds = Math.ceil(this.lockoutMs / 1000);
      throw new AdminExitError('admin_locked', `too many wrong admin codes; try again in ${seconds} s`, seconds);
    }
    throw new AdminExitError('admin_code_wrong', 'wrong admin code');
  }
}
