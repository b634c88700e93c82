// `virtual-mynumber-card`: puts a virtual My Number card into a vpcd reader slot until SIGTERM/SIGINT.
//
//   npx virtual-mynumber-card --vpcd-port 35963 --auth-cert A.pem --auth-key A.key --auth-ca CA.pem \
//       [--sign-cert S.pem --sign-key S.key --sign-ca SCA.pem] [--pin 1234] [--sign-password ABC123] \
//       [--atr HEX|contact|contactless|contact-c5|contact-2024] [--smartphone] [--state-file F] \
//       [--vpcd-host 127.0.0.1] [--warm-reset keep|clear] [--wrong-length-pin count|reject] [--log-apdus]
//
// Prints `inserted` on stdout each time vpcd accepts the card (first time = ready), diagnostics on stderr.
// Keeps retrying until vpcd (pcscd) is reachable, and reconnects if vpcd drops the card. On SIGTERM/SIGINT it
// removes the card (closes the socket) and exits 0.
import { parseArgs } from 'node:util';
import { MYNA_ATR, fromHex } from '@cert/common';
import { personaFromFiles } from './persona.ts';
import { VirtualMyNumberCard } from './virtual-mynumber-card.ts';

const USAGE = `usage: virtual-mynumber-card --vpcd-port PORT --auth-cert F --auth-key F --auth-ca F
  [--sign-cert F --sign-key F --sign-ca F] [--pin 1234] [--sign-password ABC123]
  [--atr HEX|contact|contactless|contact-c5|contact-2024|contactless-2|contactless-3|contactless-4]
  [--smartphone] [--state-file F] [--vpcd-host 127.0.0.1] [--warm-reset keep|clear]
  [--wrong-length-pin count|reject] [--log-apdus]`;

function fail(message: string): never {
  process.stderr.write(`virtual-mynumber-card: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'vpcd-port': { type: 'string' },
        'vpcd-host': { type: 'string', default: '127.0.0.1' },
        'auth-cert': { type: 'string' },
        'auth-key': { type: 'string' },
        'auth-ca': { type: 'string' },
        'sign-cert': { type: 'string' },
        'sign-key': { type: 'string' },
        'sign-ca': { type: 'string' },
        pin: { type: 'string' },
        'sign-password': { type: 'string' },
        atr: { type: 'string' },
        smartphone: { type: 'boolean', default: false },
        'state-file': { type: 'string' },
        'warm-reset': { type: 'string' },
        'wrong-length-pin': { type: 'string' },
        'log-apdus': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values['vpcd-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--vpcd-port is required (1..65535)');
  for (const k of ['auth-cert', 'auth-key', 'auth-ca'] as const) if (!values[k]) fail(`--${k} is required`);
  const warmReset = values['warm-reset'];
  if (warmReset !== undefined && warmReset !== 'keep' && warmReset !== 'clear') fail('--warm-reset is keep or clear');
  const wrongLengthPin = values['wrong-length-pin'];
  if (wrongLengthPin !== undefined && wrongLengthPin !== 'count' && wrongLengthPin !== 'reject') fail('--wrong-length-pin is count or reject');
  let atr: Uint8Array | undefined;
  if (values.atr !== undefined) {
    const named = Object.entries(MYNA_ATR).find(([k]) => k.toLowerCase().replace(/_/g, '-') === values.atr!.toLowerCase());
    try {
      atr = named ? named[1] : fromHex(values.atr);
    } catch {
      fail(`--atr must be hex or one of ${Object.keys(MYNA_ATR).map((k) => k.toLowerCase().replace(/_/g, '-')).join(', ')}`);
    }
    if (atr.length < 2 || atr.length > 33) fail('--atr must be 2..33 bytes');
  }

  let card: VirtualMyNumberCard;
  try {
    const persona = personaFromFiles({
      authCert: values['auth-cert']!, authKey: values['auth-key']!, authCa: values['auth-ca']!,
      ...(values['sign-cert'] !== undefined ? { signCert: values['sign-cert'] } : {}),
      ...(values['sign-key'] !== undefined ? { signKey: values['sign-key'] } : {}),
      ...(values['sign-ca'] !== undefined ? { signCa: values['sign-ca'] } : {}),
      ...(values.pin !== undefined ? { pin: values.pin } : {}),
      ...(values['sign-password'] !== undefined ? { signPassword: values['sign-password'] } : {}),
    });
    card = new VirtualMyNumberCard(persona, {
      ...(atr ? { atr } : {}),
      smartphone: values.smartphone,
      ...(values['state-file'] !== undefined ? { stateFile: values['state-file'] } : {}),
      ...(warmReset ? { warmReset } : {}),
      ...(wrongLengthPin ? { wrongLengthPin } : {}),
      reconnect: true,
      connectTimeoutMs: Infinity, // the CLI waits for pcscd as long as it takes
    });
  } catch (err) {
    fail((err as Error).message);
  }

  const host = values['vpcd-host']!;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`virtual-mynumber-card: ${signal}: removing the card\n`);
    await card.remove();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  card.on('inserted', () => process.stdout.write('inserted\n'));
  card.on('disconnected', () => process.stderr.write('virtual-mynumber-card: vpcd dropped the card; reconnecting\n'));
  if (values['log-apdus']) {
    card.on('apdu', (e: { command: string; response: string }) => process.stderr.write(`> ${e.command}\n< ${e.response}\n`));
    card.on('control', (c: string) => process.stderr.write(`* ${c}\n`));
  }
  process.stderr.write(`virtual-mynumber-card: inserting into vpcd at ${host}:${port}\n`);
  await card.insert(port, host);
}

main().catch((err: unknown) => {
  process.stderr.write(`virtual-mynumber-card: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
