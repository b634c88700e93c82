import { parseArgs, type ChannelHandlers, type ChannelMap, type IpcError, type IpcOutcome } from '../ipc/ipc-contract.ts';

/** Turns whatever a handler threw into the IpcError the renderer shows. */
export type ErrorMapper = (err: unknown) => IpcError;

/**
 * Runs one IPC call: validates the channel and its arguments against the map, runs the handler
 * and wraps the result or the error. Invalid calls are refused with `invalid_call` and reported
 * through `onRejected` (the caller logs them); they never reach a handler.
 */
export async function dispatchIpc<M extends ChannelMap>(
  map: M,
  handlers: ChannelHandlers<M>,
  channel: unknown,
  args: unknown,
  toIpcError: ErrorMapper,
  onRejected: (why: string) => void = () => {},
): Promise<IpcOutcome<unknown>> {
  const parsed = typeof channel === 'string' ? parseArgs(map, channel, args) : null;
  if (!parsed) {
    onRejected(`invalid IPC call to ${String(channel).slice(0, 60)}`);
    return { ok: false, error: { code: 'invalid_call', message: 'this call is not part of the app API' } };
  }
  try {
    const handler = handlers[parsed.channel] as (...a: unknown[]) => unknown;
    const value = await handler(...parsed.args);
    return { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    return { ok: false, error: toIpcError(err) };
  }
}
