import { SERVER_VERSION } from '../config.ts';
import { runAdmin } from './admin-command.ts';
import { runServe } from './serve-command.ts';
import { UsageError } from './cli-options.ts';

const USAGE = `usage:
  issuance-server serve STORE [--host H] [--port P] [--tls-cert F --tls-key F] [--public-url URL]
                        [--font F] [--receipt-validity-hours N] [--confirmation-timeout-seconds N]
                        [--print-timeout-seconds N] [--log-level L]
                        [--kiosk-lookup-limit BURST/PER_MIN] [--lookup-limit BURST/PER_MIN]
                        [--auth-address-limit BURST/PER_MIN] [--auth-limit BURST/PER_MIN]
                        [--audit-checkpoint-file F] [--audit-checkpoint-minutes N] [--render-workers N]
                        [--phone-validity-days N] [--pairing-limit BURST/PER_MIN] [--phone-registration-limit BURST/PER_MIN]
                        [--push-contact mailto:…|https://…] [--push-ca F]
  issuance-server admin STORE init --municipality-code CODE --municipality-name NAME
  issuance-server admin STORE trust-anchor add FILE
  issuance-server admin STORE crl import FILE
  issuance-server admin STORE residents import FILE.csv
  issuance-server admin STORE seals import FILE.csv --images DIR|FILE.zip
  issuance-server admin STORE tax import FILE.csv
  issuance-server admin STORE koseki import --koseki F --members F [--events F] [--fuhyo F]
  issuance-server admin STORE registrations import FILE.csv
  issuance-server admin STORE update FILE.json
  issuance-server admin STORE catalog load FILE.json | catalog show
  issuance-server admin STORE api-client register --name NAME | api-client revoke ID
  issuance-server admin STORE card link --resident ID --certificate FILE
  issuance-server admin STORE kiosk register --name NAME --location TEXT
  issuance-server admin STORE audit verify [--checkpoint FILE]
  issuance-server admin STORE audit checkpoint
  issuance-server admin STORE issuances unsettled
  issuance-server admin STORE issuances settle ID printed|not-printed [--note TEXT]
  issuance-server admin STORE settlement report --from YYYY-MM-DD --to YYYY-MM-DD [--kiosk ID] [--csv FILE] [--pdf DIR]
  issuance-server admin STORE settlement refunds [--all]
  issuance-server admin STORE settlement settle-refund SLIP-CODE [--note TEXT]
  issuance-server admin STORE backup --to FILE
  issuance-server admin STORE restore --from FILE
  issuance-server [serve|admin] --help
  issuance-server --version
STORE is --data-dir DIR (SQLite: one server per directory) or --database postgres://… (PostgreSQL:
any number of nodes; the password from PGPASSWORD or ~/.pgpass); backup and restore are for SQLite.`;


async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  if (command === '--version') {
    console.log(SERVER_VERSION);
    return 0;
  }
  if (command === 'serve') return runServe(rest);
  if (command === 'admin') return runAdmin(rest);
  throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
}


main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`error: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  },
);
