// The kiosk appliance's configuration: one zod schema for the Electron shell's JSON file and the
// web-mode command line, resolved into what the host needs (files read, durations in ms).
import type { ServerEndpoint } from '@cert/common/node';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { KioskSessionOptions } from '../core/kiosk-session.ts';
import type { PrintReconcilerOptions } from '../core/print-reconciler.ts';
import { defaultStateDir } from '../state/state-dir.ts';

const urlWithProtocol = (what: string, protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL (${what})` },
  );

/**
 * How the kiosk takes the fee. There is no default: a store's kiosk names its payment device
 * (`cash`: the ccTalk cash unit on a serial port), a kiosk in a municipal building says `free`.
 */
export const paymentConfigSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('free') }),
    z.strictObject({
      mode: z.literal('cash'),
      /** The only cash device so far: coin acceptor, bill validator and hoppers on one ccTalk bus. */
      device: z.literal('cctalk').default('cctalk'),
      /** The serial port of the ccTalk bus, e.g. /dev/ttyUSB0. */
      serialPath: z.string().min(1),
      /** The change hoppers (default ¥100 at address 3, ¥50 at 4, ¥10 at 5). */
      hoppers: z.array(z.strictObject({ address: z.number().int().min(2).max(255), yen: z.union([z.literal(10), z.literal(50), z.literal(100), z.literal(500)]) })).min(1).optional(),
      /** Seconds without a coin or note after which the payment is given up and everything paid back. */
      idleTimeoutSeconds: z.number().min(10).max(600).default(120),
    }),
  ],
  { error: 'must say how the kiosk takes the fee: {"mode": "cash", "serialPath": "/dev/ttyUSB0"} for the cash unit, or {"mode": "free"} for a kiosk that prints without payment' },
);
/** How the kiosk takes the fee. */
export type PaymentConfig = z.output<typeof paymentConfigSchema>;

/** The `payment` configuration of the command line's `--payment MODE`, `--cash-serial PATH` and `--payment-timeout-seconds N` (the schema checks it further). */
export function paymentFromArgs(mode: string, serialPath: string | undefined, idleTimeoutSeconds: number | undefined): unknown {
  if (mode !== 'cash' && mode !== 'free') throw new KioskConfigError(`--payment must be cash or free, not ${JSON.stringify(mode)}`);
  if (mode === 'free') return { mode };
  if (!serialPath) throw new KioskConfigError("--payment cash needs --cash-serial PATH (the cash unit's serial port)");
  return { mode, serialPath, ...(idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds } : {}) };
}

/** The configuration as written by a technician (JSON file or command line); durations in seconds. */
export const kioskConfigSchema = z.strictObject({
  serverUrl: urlWithProtocol('the issuance server', ['https:', 'http:']),
  /** The server's other nodes, tried in this order when the one in use stops answering (README, "Two or more nodes"). */
  fallbackServerUrls: z.array(urlWithProtocol('another node of the issuance server', ['https:', 'http:'])).max(8).default([]),
  credentialFile: z.string().min(1),
  printerUri: urlWithProtocol('the IPP printer', ['ipp:', 'ipps:', 'http:', 'https:']),
  caFile: z.string().min(1).optional(),
  /** The store's name as registered with the admin CLI: the resident's app shows the same one. */
  storeName: z.string().trim().max(100).default(''),
  location: z.string().trim().max(200).default(''),
  /** Digits a member of staff types to leave the shell; without it the shell cannot be left from the screen. */
  adminCode: z.string().regex(/^\d{6,12}$/, 'must be 6 to 12 digits').optional(),
  inactivitySeconds: z.number().min(5).max(3600).default(90),
  decisionTimeoutSeconds: z.number().min(5).max(3600).default(150),
  printTimeoutSeconds: z.number().min(5).max(3600).default(120),
  /** Where the print journal lives (one kiosk per directory); default `$XDG_STATE_HOME/kiosk-shell` or `~/.local/state/kiosk-shell`. */
  stateDir: z.string().min(1).optional(),
  payment: paymentConfigSchema,
});
/** The configuration as written by a technician. */
export type KioskConfigInput = z.input<typeof kioskConfigSchema>;

/** The appliance (Electron) file additionally names the store: the approval screen shows it. */
export const applianceConfigSchema = kioskConfigSchema.extend({ storeName: z.string().trim().min(1).max(100) });

/** A schema that yields a kiosk configuration (the command line's or the appliance file's). */
export type KioskConfigSchema = z.ZodType<z.output<typeof kioskConfigSchema>>;

/** What the kiosk host runs with. */
export interface KioskHostConfig {
  endpoint: ServerEndpoint;
  credential: string;
  printerUri: string;
  storeName: string;
  location: string;
  /** Idle time after which every screen returns to start. */
  inactivityMs: number;
  decisionTimeoutMs: number;
  printTimeoutMs: number;
  adminCode: string | null;
  /** The state directory (print journal). */
  stateDir: string;
  /** How the fee is taken. */
  payment: PaymentConfig;
  /** Finer session limits (tests shorten the polling). */
  session?: Omit<KioskSessionOptions, 'journal' | 'payment'>;
  /** Finer journal limits (tests shorten the retries). */
  recovery?: PrintReconcilerOptions;
}

/** The configuration is missing or wrong; the message says where and what. */
export class KioskConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KioskConfigError';
  }
}

function readConfigFile(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KioskConfigError(`cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Validates a configuration and reads the files it names (relative paths from `baseDir`).
 * `source` names where it came from in error messages.
 */
export function resolveKioskConfig(raw: unknown, source: string, baseDir: string, schema: KioskConfigSchema = kioskConfigSchema): KioskHostConfig {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new KioskConfigError(`${source} is not a valid kiosk configuration: ${issues.join('; ')}`);
  }
  const c = parsed.data;
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const credential = readConfigFile('credential', path(c.credentialFile)).trim();
  if (!credential) throw new KioskConfigError(`the credential file ${path(c.credentialFile)} is empty`);
  const endpoint: ServerEndpoint = { baseUrl: c.serverUrl.replace(/\/$/, ''), alternateUrls: c.fallbackServerUrls.map((u) => u.replace(/\/$/, '')) };
  if (c.caFile) endpoint.ca = readConfigFile('CA', path(c.caFile));
  return {
    endpoint,
    credential,
    printerUri: c.printerUri,
    storeName: c.storeName,
    location: c.location,
    inactivityMs: Math.round(c.inactivitySeconds * 1000),
    decisionTimeoutMs: Math.round(c.decisionTimeoutSeconds * 1000),
    printTimeoutMs: Math.round(c.printTimeoutSeconds * 1000),
    adminCode: c.adminCode ?? null,
    stateDir: c.stateDir ? path(c.stateDir) : defaultStateDir(),
    payment: c.payment.mode === 'cash' ? { ...c.payment, serialPath: path(c.payment.serialPath) } : c.payment,
  };
}

/** Reads and resolves a JSON configuration file (the appliance's `kiosk-config.json`). */
export function loadKioskConfigFile(file: string, schema: KioskConfigSchema = applianceConfigSchema): KioskHostConfig {
  const text = readConfigFile('kiosk configuration', file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KioskConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return resolveKioskConfig(raw, file, resolve(file, '..'), schema);
}
