// When a screen gives up on an absent resident and returns to start. No DOM: unit-tested in Node.

/** How a screen takes part in the inactivity timeout. */
export type IdleRule =
  /** Back to start `inactivityMs` after the last touch or key. */
  | { kind: 'idle' }
  /**
   * Waiting for the resident's own device: the countdown on screen is the limit, so inactivity
   * counts only from its end (the server normally ends the attempt first; this catches a
   * server that went silent).
   */
  | { kind: 'after'; deadline: number }
  /** The kiosk is busy (printing, checking): its own timeouts bound the screen. */
  | { kind: 'none' };

/** The moment a screen returns to start, or null when it does not. */
export function idleDeadline(rule: IdleRule, lastActivity: number, inactivityMs: number): number | null {
  switch (rule.kind) {
    case 'idle':
      return lastActivity + inactivityMs;
    case 'after':
      return Math.max(lastActivity, rule.deadline) + inactivityMs;
    case 'none':
      return null;
  }
}
