// Reading systemd unit files in tests, and checking them with systemd-analyze where it is installed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Lines of a unit file's given section as [key, value] pairs. */
export function unitSection(text: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (current === section && eq > 0) out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** Every value of `key` among a section's pairs. */
export const values = (pairs: [string, string][], key: string) => pairs.filter(([k]) => k === key).map(([, v]) => v);

/** Whether systemd-analyze can run here. */
export function hasSystemdAnalyze(): boolean {
  return spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * What `systemd-analyze verify` says about copies of `units` (system units, or user units with
 * `user`), one line per problem, without the complaint that their executables are not installed.
 */
export function verifyUnits(units: string[], options: { user?: boolean } = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'units-'));
  try {
    const copies = units.map((u) => join(dir, basename(u)));
    units.forEach((u, i) => writeFileSync(copies[i]!, readFileSync(u)));
    mkdirSync(join(dir, 'runtime'), { mode: 0o700 });
    const r = spawnSync('systemd-analyze', [...(options.user ? ['--user'] : []), 'verify', '--man=no', ...copies], {
      encoding: 'utf8',
      env: { ...process.env, XDG_RUNTIME_DIR: join(dir, 'runtime') },
    });
    // The executables exist only once the package is installed.
    return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/is not executable: No such file or directory/.test(l));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
