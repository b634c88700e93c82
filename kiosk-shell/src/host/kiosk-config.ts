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
  /** Finer session limits (tests shorten the polling). */
  session?: Omit<KioskSessionOptions, 'journal'>;
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
