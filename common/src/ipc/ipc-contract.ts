import { z } from 'zod';

/**
 * One IPC channel: a zod tuple for its arguments (validated in the main process / web host
 * before the handler runs) and a zod schema for its result (what the renderer receives).
 */
export interface ChannelSpec<A extends z.ZodTuple = z.ZodTuple, R extends z.ZodType = z.ZodType> {
  args: A;
  result: R;
}

/** A map of channel name → spec; one per app, declared once in `common/`. */
export type ChannelMap = Record<string, ChannelSpec>;

/** A map of event name → payload schema (main → renderer pushes). */
export type EventMap = Record<string, z.ZodType>;

/** Declares a channel (keeps the literal types of its schemas). */
export function channel<A extends z.ZodTuple, R extends z.ZodType>(args: A, result: R): ChannelSpec<A, R> {
  return { args, result };
}

/**
 * The error every failed call resolves to: a stable code the UI translates, and a detail.
 * `refusal` marks a refusal by the municipality's rules (a 403 of the server), so that a code
 * newer than this build still reads as one.
 */
export const ipcErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  triesLeft: z.number().int().optional(),
  retryAfterSeconds: z.number().optional(),
  refusal: z.boolean().optional(),
});
/** The error every failed call resolves to. */
export type IpcError = z.infer<typeof ipcErrorSchema>;

/** What crosses the boundary for one call: the value, or an IpcError (never a thrown Error). */
export type IpcOutcome<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/** Thrown in the renderer by the API wrapper when a call failed. */
export class IpcCallError extends Error {
  constructor(readonly error: IpcError) {
    super(error.message);
    this.name = 'IpcCallError';
  }
}

/** The renderer-side function type of every channel of a map. */
export type InvokeApi<M extends ChannelMap> = {
  [K in keyof M]: (...args: z.input<M[K]['args']>) => Promise<z.infer<M[K]['result']>>;
};

/** The renderer-side subscription function for an event map; returns an unsubscribe function. */
export type SubscribeApi<E extends EventMap> = <K extends keyof E & string>(event: K, listener: (payload: z.infer<E[K]>) => void) => () => void;

/** What the renderer sees, in Electron (preload) and in web mode (web bridge) alike. */
export interface RendererApi<M extends ChannelMap, E extends EventMap> {
  invoke: InvokeApi<M>;
  on: SubscribeApi<E>;
}

/** Main-side handler implementations for a map, typed from the specs. */
export type ChannelHandlers<M extends ChannelMap> = {
  [K in keyof M]: (...args: z.infer<M[K]['args']>) => Promise<z.input<M[K]['result']>> | z.input<M[K]['result']>;
};

/** Validates a call's arguments; null when they do not match (the call is dropped and logged). */
export function parseArgs<M extends ChannelMap>(map: M, name: string, args: unknown): { channel: keyof M & string; args: unknown[] } | null {
  if (!Object.hasOwn(map, name)) return null;
  const spec = map[name]!;
  const r = spec.args.safeParse(args);
  return r.success ? { channel: name, args: r.data as unknown[] } : null;
}

/**
 * The raw channel under the renderer API: what the Electron preload exposes through
 * contextBridge and what the web bridge provides in web mode. Calls resolve to an outcome and
 * never throw, because errors crossing contextBridge lose everything but their message.
 */
export interface IpcTransport {
  call(channel: string, args: unknown[]): Promise<IpcOutcome<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

/** Builds the typed renderer API over a transport; failed calls throw IpcCallError here, in the renderer. */
export function rendererApi<M extends ChannelMap, E extends EventMap>(map: M, _events: E, transport: IpcTransport): RendererApi<M, E> {
  const invoke = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(map)) {
    invoke[name] = async (...args: unknown[]) => {
      const r = await transport.call(name, args);
      if (!r.ok) throw new IpcCallError(r.error);
      return r.value;
    };
  }
  return { invoke: invoke as InvokeApi<M>, on: transport.on as SubscribeApi<E> };
}
