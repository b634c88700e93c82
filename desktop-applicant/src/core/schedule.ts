/** Runs `fn` once after `ms` and answers what cancels it; tests pass a clock they advance by hand. */
export type Schedule = (fn: () => void, ms: number) => () => void;

/** The real clock: setTimeout. */
export const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};
