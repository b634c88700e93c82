// `kiosk-shell` command line: subcommand dispatch (the Electron shell starts elsewhere).
import { headlessMain } from './headless/cli.ts';

const USAGE = `Usage: kiosk-shell <command> [options]

Commands:
  headless    handle receipt numbers from stdin without a UI (kiosk-shell headless --help)
`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'headless') {
  process.exitCode = await headlessMain(rest);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
  process.exitCode = command === undefined ? 2 : 0;
} else {
  process.stderr.write(`kiosk-shell: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  process.exitCode = 2;
}
