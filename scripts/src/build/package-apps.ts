// Packages the two Electron apps with electron-builder (programmatic API), from the bundles that
// build-apps.ts writes into <app>/dist. Configuration: <app>/electron-builder.yml, which extends the
// shared ../electron-builder.yml at the repository root.
//
//   npx tsx scripts/src/build/package-apps.ts [app…] [--dir] [--electron-dist PATH]
//        [--linux deb,AppImage] [--win nsis] [--out DIR] [--no-build] [--no-rebuild]
//
// Real installers need a machine with internet access (or an Electron zip/cache and electron-gyp
// headers already there): electron-builder downloads the Electron distribution, node-gyp downloads
// Electron's headers to rebuild pcsclite, and the deb/AppImage/NSIS tools (fpm, appimagetool, NSIS)
// come from GitHub. `--dir --electron-dist PATH --no-rebuild` packages offline into
// <out>/linux-unpacked (a layout check: native modules keep the workspace's Node build).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Arch, build, Platform, type Configuration } from 'electron-builder';
import { getConfig } from 'app-builder-lib/out/util/config/config.js';
import { log as builderLog, setPrinter } from 'builder-util/out/log.js';
import { REPO_ROOT } from '../rig/server-process.ts';
import { APPS, buildApp, type AppName } from './build-apps.ts';
import { nativeModuleAbi } from './native-abi.ts';

/** The platforms the apps are packaged for. */
export type TargetPlatform = 'linux' | 'win';

/** Options of {@link packageApp}. */
export interface PackageAppOptions {
  /** Only the unpacked app (`electron-builder --dir`): `<out>/linux-unpacked`, `<out>/win-unpacked`. */
  dir?: boolean;
  /**
   * A local Electron distribution, for packaging without downloading Electron: an unpacked Electron
   * directory (the `electron` executable, resources/, locales/ …), a directory holding
   * `electron-v<version>-<platform>-<arch>.zip`, or such a zip.
   */
  electronDist?: string;
  /**
   * Targets per platform, e.g. `{linux: ['deb']}`. Default: the targets the app's config declares
   * for this machine's platform (Linux: deb + AppImage; Windows: nsis). With `dir`, `dir` for each
   * platform named here (default: this machine's).
   */
  targets?: Partial<Record<TargetPlatform, string[]>>;
  /** CPU architecture (default x64). */
  arch?: 'x64' | 'arm64';
  /** Output directory (default: `directories.output` of the config, `<app>/out`). */
  outputDir?: string;
  /**
   * electron-builder configuration merged over the app's yml (objects merge, arrays concatenate;
   * `null` removes a setting). Tests use it, e.g. `{npmRebuild: false}` for a stub Electron.
   */
  config?: Configuration;
  /**
   * electron-builder rebuilds native modules for Electron IN PLACE in the workspace's node_modules.
   * Afterwards, rebuild them for Node again so that Node-side tests keep working (default true).
   */
  restoreNodeBuild?: boolean;
  /** Receives electron-builder's log lines (default: its own printing to stdout). */
  log?: (line: string) => void;
}

/** What {@link packageApp} produced. */
export interface PackageAppResult {
  app: AppName;
  /** The output directory. */
  outDir: string;
  /** Installer files (empty for `dir`). */
  artifacts: string[];
  /** `<outDir>/linux-unpacked`, `<outDir>/win-unpacked` … that exist after the run. */
  unpackedDirs: string[];
  /** Whether native modules were rebuilt for Electron (config `npmRebuild`). */
  rebuiltForElectron: boolean;
  /** Native modules in the package whose ABI is not Electron's (see {@link findAbiMismatches}). */
  abiMismatches: AbiMismatch[];
  durationMs: number;
}

/** A packaged `.node` file compiled for another ABI than the packaged Electron's. */
export interface AbiMismatch {
  file: string;
  abi: number;
  expected: number;
}

/** The app's folder. */
export function appDir(app: AppName): string {
  return join(REPO_ROOT, app);
}

/** The app's electron-builder config file. */
export function appConfigPath(app: AppName): string {
  return join(appDir(app), 'electron-builder.yml');
}

/**
 * The app's effective electron-builder configuration, merged with the shared base exactly as
 * electron-builder merges it (its own loader), before command-line/programmatic overrides.
 * Its "loaded configuration" lines go to `log` when given.
 */
export async function loadAppConfig(app: AppName, log?: (line: string) => void): Promise<Configuration> {
  return withBuilderLog(log, () => getConfig(appDir(app), appConfigPath(app), null));
}

/**
 * Runs `fn` with electron-builder's console output (builder-util's `log`: its stream for info/warn
 * lines, its printer for the rest) sent line by line to `sink`; without a sink, unchanged.
 */
async function withBuilderLog<T>(sink: ((line: string) => void) | undefined, fn: () => Promise<T>): Promise<T> {
  if (!sink) return fn();
  const logger = builderLog as unknown as { stream: NodeJS.WritableStream };
  const original = logger.stream;
  let pending = '';
  logger.stream = {
    write(chunk: string | Uint8Array): boolean {
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        sink(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      return true;
    },
  } as NodeJS.WritableStream;
  setPrinter(sink);
  try {
    return await fn();
  } finally {
    if (pending) sink(pending);
    logger.stream = original;
    setPrinter(null);
  }
}

/** Electron's Node ABI (NODE_MODULE_VERSION) of the installed `electron` package, e.g. 145 for Electron 41. */
export function electronAbi(): number {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const electronPkg = require.resolve('electron/package.json');
  const abiFile = join(electronPkg, '..', 'abi_version');
  if (existsSync(abiFile)) return Number(readFileSync(abiFile, 'utf8').trim());
  const { version } = JSON.parse(readFileSync(electronPkg, 'utf8')) as { version: string };
  const nodeAbi = require('node-abi') as { getAbi(target: string, runtime: string): string };
  return Number(nodeAbi.getAbi(version, 'electron'));
}

/** Every `.node` under `dir`, recursively. */
function findNodeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.node'))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * Native modules in an unpacked app (`resources/app.asar.unpacked`) that were not compiled for
 * Electron's ABI — what packaging with `npm_config_nodedir` pointing at Node's headers produces.
 */
export function findAbiMismatches(unpackedDir: string, expected = electronAbi()): AbiMismatch[] {
  const mismatches: AbiMismatch[] = [];
  for (const file of findNodeFiles(join(unpackedDir, 'resources', 'app.asar.unpacked'))) {
    const abi = nativeModuleAbi(file);
    if (abi !== undefined && abi !== expected) mismatches.push({ file, abi, expected });
  }
  return mismatches;
}

/** Packages in the workspace root's node_modules (one level, scopes included). */
function workspacePackages(): string[] {
  const root = join(REPO_ROOT, 'node_modules');
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const scoped of readdirSync(join(root, entry.name))) out.push(join(root, entry.name, scoped));
    } else {
      out.push(join(root, entry.name));
    }
  }
  return out;
}

/**
 * @electron/rebuild's markers (`build/Release/.forge-meta`, "linux--x64--145"): it skips a module
 * whose marker names the target ABI, whatever the binary really is. A rebuild under
 * npm_config_nodedir writes the Electron marker next to a Node-ABI binary, and every later
 * packaging would ship it; so markers are removed before each packaging run.
 */
function rebuildMarkers(): string[] {
  return workspacePackages()
    .map((dir) => join(dir, 'build', 'Release', '.forge-meta'))
    .filter((file) => existsSync(file));
}

/** The workspace's node-gyp modules (a binding.gyp) → ABI of each .node under build/ ('none' when absent). */
function nativeBuildState(): Map<string, string> {
  const state = new Map<string, string>();
  for (const dir of workspacePackages()) {
    if (!existsSync(join(dir, 'binding.gyp'))) continue;
    const abis = findNodeFiles(join(dir, 'build')).map((f) => `${relative(dir, f)}:${nativeModuleAbi(f) ?? 'napi'}`);
    state.set(relative(join(REPO_ROOT, 'node_modules'), dir), abis.sort().join(',') || 'none');
  }
  return state;
}

/** Modules whose build electron-builder changed (rebuilt for Electron, or removed by a failed rebuild). */
function changedNativeBuilds(before: Map<string, string>): string[] {
  const nodeAbi = `:${process.versions.modules}`;
  return [...nativeBuildState()].filter(([name, now]) => now !== before.get(name) || (now !== 'none' && !now.split(',').every((f) => f.endsWith(nodeAbi) || f.endsWith(':napi')))).map(([name]) => name);
}

/** Names of the npm_config_nodedir variables in this environment (npm's config is case-insensitive). */
function nodedirVariables(): string[] {
  return Object.keys(process.env).filter((k) => k.toLowerCase() === 'npm_config_nodedir');
}

function defaultTargets(config: Configuration): Partial<Record<TargetPlatform, string[]>> {
  const platform: TargetPlatform = process.platform === 'win32' ? 'win' : 'linux';
  const declared = platform === 'win' ? config.win?.target : config.linux?.target;
  const names = (Array.isArray(declared) ? declared : declared == null ? [] : [declared]).map((t) => (typeof t === 'string' ? t : t.target));
  return { [platform]: names };
}

function electronBuilderTargets(targets: Partial<Record<TargetPlatform, string[]>>, arch: Arch, dir: boolean): Map<Platform, Map<Arch, string[]>> {
  const result = new Map<Platform, Map<Arch, string[]>>();
  for (const [name, list] of Object.entries(targets) as [TargetPlatform, string[]][]) {
    const platform = name === 'win' ? Platform.WINDOWS : Platform.LINUX;
    result.set(platform, new Map([[arch, dir ? ['dir'] : list]]));
  }
  return result;
}

/** Whether the app's production dependencies contain a native module (a binding.gyp). */
function hasNativeDependency(app: AppName): boolean {
  const pkg = JSON.parse(readFileSync(join(appDir(app), 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(pkg.dependencies ?? {}).some((name) => existsSync(join(REPO_ROOT, 'node_modules', name, 'binding.gyp')));
}

/**
 * Packages one app with electron-builder from its bundles in `<app>/dist` (run
 * `buildApp(app, {electron: true})` first). Offline layout check:
 * `packageApp(app, {dir: true, electronDist: '/path/to/electron', config: {npmRebuild: false}})`.
 */
export async function packageApp(app: AppName, options: PackageAppOptions = {}): Promise<PackageAppResult> {
  const started = Date.now();
  const main = join(appDir(app), 'dist', 'electron', 'main.cjs');
  if (!existsSync(main)) {
    throw new Error(`${relative(REPO_ROOT, main)} is missing: build the app first (buildApp('${app}', {electron: true}) or npm run build)`);
  }
  const baseConfig = await loadAppConfig(app, options.log);
  const effective = { ...baseConfig, ...options.config };
  const rebuild = effective.npmRebuild !== false;
  const targets = options.targets ?? defaultTargets(baseConfig);
  const dir = options.dir === true;
  if (targets.win && process.platform !== 'win32' && rebuild && hasNativeDependency(app)) {
    throw new Error(
      `${app} ships a native module (pcsclite) that must be compiled for Windows with Electron's headers; node-gyp cannot cross-compile. Package the Windows target on Windows.`,
    );
  }
  const arch = options.arch === 'arm64' ? Arch.arm64 : Arch.x64;
  const outDir = resolve(appDir(app), options.outputDir ?? baseConfig.directories?.output ?? 'out');

  const config: Configuration = {
    // An `extends` path makes electron-builder load the app's yml (with its own `extends` of the
    // shared base) and merge this object over it.
    extends: appConfigPath(app),
    ...options.config,
    directories: { ...options.config?.directories, output: outDir },
    ...(options.electronDist !== undefined ? { electronDist: resolve(options.electronDist) } : {}),
  };

  // ABI caveat (see ../../../electron-builder.yml): node-gyp would take Node's headers from
  // npm_config_nodedir instead of Electron's. Hide it for the packaging run only.
  const savedEnv = new Map(nodedirVariables().map((k) => [k, process.env[k]]));
  const nativeBefore = rebuild ? nativeBuildState() : new Map<string, string>();
  if (rebuild) {
    for (const k of savedEnv.keys()) delete process.env[k];
    for (const marker of rebuildMarkers()) rmSync(marker, { force: true });
  }
  let artifacts: string[] = [];
  let failure: unknown;
  try {
    artifacts = await withBuilderLog(options.log, () =>
      build({
        projectDir: appDir(app),
        targets: electronBuilderTargets(targets, arch, dir),
        config,
        publish: 'never',
      }),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    failure =
      rebuild && /node-gyp|rebuild/i.test(message)
        ? new Error(
            `${message}\n(Rebuilding native modules for Electron needs Electron's headers, downloaded from https://electronjs.org/headers into ~/.electron-gyp, and a compiler for the target platform. Offline, only the layout can be checked: config {npmRebuild: false}.)`,
            { cause: err },
          )
        : err;
  } finally {
    for (const [k, v] of savedEnv) if (v !== undefined) process.env[k] = v;
  }
  if (rebuild && options.restoreNodeBuild !== false) {
    const changed = changedNativeBuilds(nativeBefore);
    if (changed.length > 0) {
      try {
        restoreNodeBuild(changed, options.log);
      } catch (err) {
        if (failure === undefined) throw err;
        (options.log ?? console.error)(err instanceof Error ? err.message : String(err));
      }
    }
  }
  if (failure !== undefined) throw failure;

  // electron-builder's unpacked directories: linux-unpacked, win-unpacked, linux-arm64-unpacked …
  const unpackedDirs = Object.keys(targets)
    .map((platform) => join(outDir, `${platform}${arch === Arch.x64 ? '' : `-${Arch[arch]}`}-unpacked`))
    .filter((d) => existsSync(d));
  const expectedAbi = electronAbi();
  // The registration symbol is in ELF and PE files alike: this covers a Windows build as well.
  const abiMismatches = unpackedDirs.flatMap((d) => findAbiMismatches(d, expectedAbi));
  if (rebuild && abiMismatches.length > 0) {
    throw new Error(
      `native modules in the package are not built for Electron (ABI ${expectedAbi}): ${abiMismatches.map((m) => `${relative(outDir, m.file)} (ABI ${m.abi})`).join(', ')}. ` +
        'Was npm_config_nodedir set for the rebuild? Remove it (and build/Release/.forge-meta) and package again.',
    );
  }
  return { app, outDir, artifacts, unpackedDirs, rebuiltForElectron: rebuild, abiMismatches, durationMs: Date.now() - started };
}

/**
 * Rebuilds native modules of the workspace for Node after electron-builder rebuilt them for
 * Electron in place (with the caller's environment, so `nodedir` applies again where it is set).
 */
export function restoreNodeBuild(modules: string[], log: (line: string) => void = (l) => console.log(l)): void {
  log(`rebuilding ${modules.join(', ')} for Node ${process.version} again (electron-builder rebuilt them in place for Electron)`);
  const r = spawnSync('npm', ['rebuild', ...modules], { cwd: REPO_ROOT, encoding: 'utf8', env: process.env });
  if (r.status !== 0) {
    throw new Error(
      `npm rebuild ${modules.join(' ')} failed; until it succeeds, Node cannot load these modules (tests of the cores will fail):\n${r.stdout}${r.stderr}`,
    );
  }
}

async function cli(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'boolean', default: false },
      'electron-dist': { type: 'string' },
      linux: { type: 'string' },
      win: { type: 'string' },
      out: { type: 'string' },
      arch: { type: 'string', default: 'x64' },
      'no-build': { type: 'boolean', default: false },
      'no-rebuild': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: package-apps.ts [desktop-applicant|kiosk-shell …] [--dir] [--electron-dist PATH] [--linux deb,AppImage] [--win nsis]\n' +
        '                       [--out DIR] [--arch x64|arm64] [--no-build] [--no-rebuild]\n' +
        '  --dir            unpacked app only (<out>/linux-unpacked)\n' +
        '  --electron-dist  local Electron: unpacked directory, directory with electron-v*-<platform>-<arch>.zip, or the zip\n' +
        '  --no-build       package the existing <app>/dist bundles (default: bundle first)\n' +
        '  --no-rebuild     do not rebuild native modules for Electron (layout checks only: the package then holds Node builds)\n',
    );
    return;
  }
  const apps = positionals.length > 0 ? positionals : [...APPS];
  for (const app of apps) if (!(APPS as readonly string[]).includes(app)) throw new Error(`unknown app ${JSON.stringify(app)} (${APPS.join(', ')})`);
  const targets: Partial<Record<TargetPlatform, string[]>> = {};
  if (values.linux) targets.linux = values.linux.split(',');
  if (values.win) targets.win = values.win.split(',');
  for (const app of apps as AppName[]) {
    if (!values['no-build']) await buildApp(app, { electron: true });
    const result = await packageApp(app, {
      dir: values.dir,
      ...(values['electron-dist'] ? { electronDist: values['electron-dist'] } : {}),
      ...(Object.keys(targets).length > 0 ? { targets } : {}),
      ...(values.out ? { outputDir: join(resolve(values.out), app) } : {}),
      arch: values.arch === 'arm64' ? 'arm64' : 'x64',
      ...(values['no-rebuild'] ? { config: { npmRebuild: false } } : {}),
    });
    for (const m of result.abiMismatches) console.warn(`warning: ${relative(process.cwd(), m.file)} is built for ABI ${m.abi}, Electron needs ${m.expected} (--no-rebuild)`);
    const made = [...result.artifacts, ...(values.dir ? result.unpackedDirs : [])];
    console.log(`${app}: ${made.map((f) => relative(process.cwd(), f)).join(', ') || '(nothing)'} in ${(result.durationMs / 1000).toFixed(1)} s`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
