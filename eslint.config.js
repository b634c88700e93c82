// ESLint flat config: the layer rules of ../shared/STYLE.md as lint rules, plus the
// typescript-eslint recommended set. Syntactic only (no type information), so `npm run lint`
// stays a few seconds; `tsc` already does the type checking.
//
// Layers, enforced on the resolved file (a relative path and a package name are caught alike):
// - common/ imports nothing of ours; outside common/src/node/ it is platform-free (no Node
//   builtins or Node globals); common/src/browser/ and the renderers never reach Node code.
// - each app's core (src/core/) imports no Electron and nothing of its adapters (electron/,
//   host/, renderer/, and the kiosk's headless/); the adapters import the core.
// - server: routes and ws → services → store; never the other way round.
// - workspaces reach each other through package names and their `exports` only, never by a
//   relative path into another workspace's files. This holds for tests and scripts/ too: what a
//   test needs from the rig is exported by @cert/scripts (see scripts/package.json).
// - raw ipcRenderer only in preload files (**/electron/preload.ts); no import cycles.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;
const APPS = ['desktop-applicant', 'kiosk-shell'];
const OURS = ['common', 'issuance-server', ...APPS, 'scripts'];
const CORE_FILES = APPS.map((app) => `${app}/src/core/**/*.ts`);
const RENDERER_FILES = [...APPS.map((app) => `${app}/src/renderer/**/*.ts`), 'issuance-server/src/phone-app/**/*.ts'];
const SERVER = 'issuance-server/src';
const IPC_RENDERER = 'Raw ipcRenderer belongs in electron/preload.ts, behind the typed bridge.';
const NO_ELECTRON = 'Cores and renderers run without Electron.';

/** A no-restricted-paths zone: files under `target` may not import files under `from`. */
const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });

const layerZones = [
  zone('common', OURS.filter((w) => w !== 'common'), 'common/ is the shared contract: it imports nothing of ours.'),
  ...['common/src/browser', 'issuance-server/src/phone-app', ...APPS.map((app) => `${app}/src/renderer`)].map((target) =>
    zone(target, 'common/src/node', 'Browser code cannot run Node helpers; import @cert/common instead.'),
  ),
  ...APPS.map((app) =>
    zone(`${app}/src/core`, ['electron', 'host', 'renderer', 'headless'].map((d) => `${app}/src/${d}`), 'The core has no adapters in it: electron/, host/, renderer/ and headless/ import the core, not the other way round.'),
  ),
  ...APPS.map((app) =>
    zone(`${app}/src/renderer`, ['core', 'electron', 'host', 'headless'].map((d) => `${app}/src/${d}`), 'The renderer reaches the app over IPC only; its bridge type comes from electron/preload.ts.'),
  ),
  zone([`${SERVER}/routes`, `${SERVER}/ws`], `${SERVER}/store`, 'Routes and sockets go through a service, never to the store.'),
  zone(`${SERVER}/services`, [`${SERVER}/routes`, `${SERVER}/ws`], 'Services know nothing of HTTP or sockets.'),
  zone(`${SERVER}/phone-app`, [`${SERVER}/routes`, `${SERVER}/ws`, `${SERVER}/services`, `${SERVER}/store`, `${SERVER}/runtime`], 'The phone app runs in the browser: it reaches the server over HTTP and the socket only.'),
  zone(`${SERVER}/store`, [`${SERVER}/services`, `${SERVER}/routes`, `${SERVER}/ws`], 'The store is the bottom layer: it imports no service, route or socket.'),
];

export default defineConfig(
  { ignores: ['**/node_modules/', '**/dist/', '**/out/', '.test-output/', '.test-pki/', '.demo-data/'] },
  // A disable comment that no longer silences anything fails the run (see scripts/src/bench).
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: layerZones }],
      'import-x/no-relative-packages': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Named import and member access (`electron.ipcRenderer`, destructuring) alike.
      'no-restricted-syntax': ['error', { selector: "ImportDeclaration[source.value=/^electron(\\/|$)/] > ImportSpecifier[imported.name='ipcRenderer']", message: IPC_RENDERER }],
      'no-restricted-properties': ['error', { property: 'ipcRenderer', message: IPC_RENDERER }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/electron/preload.ts'],
    rules: { 'no-restricted-syntax': 'off', 'no-restricted-properties': 'off' },
  },
  {
    files: [...CORE_FILES, ...RENDERER_FILES],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: NO_ELECTRON }], patterns: [{ group: ['electron/*'], message: NO_ELECTRON }] }],
    },
  },
  {
    files: ['common/src/**/*.ts', ...RENDERER_FILES],
    ignores: ['common/src/node/**'],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      'no-restricted-globals': ['error', ...['Buffer', 'process', 'global', 'require', '__dirname', '__filename', 'setImmediate'].map((name) => ({ name, message: 'Platform-free code: no Node globals (common/src/node/ is the place for Node code).' }))],
    },
  },
);
