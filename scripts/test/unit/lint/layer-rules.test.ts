// The layer rules of eslint.config.js fire: each snippet is linted as if it were a file at the
// given path (nothing is written), and the rule ids it draws are exactly the expected ones.
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../../../src/rig/server-process.ts';

interface Probe {
  /** Where the snippet pretends to live, relative to the repository root. */
  path: string;
  code: string;
  /** The rule ids expected, sorted, one per reported problem. */
  rules: string[];
}

const PROBES: Record<string, Probe> = {
  'common imports nothing of ours, no Node builtins or globals outside common/src/node': {
    path: 'common/src/layer-probe.ts',
    code: `import { startServer } from 'issuance-server';\nimport { readFileSync } from 'node:fs';\nexport const probe = [startServer, readFileSync, Buffer];\n`,
    rules: ['import-x/no-nodejs-modules', 'import-x/no-restricted-paths', 'no-restricted-globals'],
  },
  'common/src/node may use Node': {
    path: 'common/src/node/layer-probe.ts',
    code: `import { readFileSync } from 'node:fs';\nexport const probe = [readFileSync, Buffer];\n`,
    rules: [],
  },
  'browser code reaches neither Node builtins nor common/src/node': {
    path: 'common/src/browser/layer-probe.ts',
    code: `import { join } from 'node:path';\nimport { callJson } from '../node/http-json-client.ts';\nexport const probe = [join, callJson];\n`,
    rules: ['import-x/no-nodejs-modules', 'import-x/no-restricted-paths'],
  },
  'an app core imports no Electron and none of its adapters': {
    path: 'desktop-applicant/src/core/layer-probe.ts',
    code: `import { app } from 'electron';\nimport { startApplicantWebHost } from '../host/web-main.ts';\nexport const probe = [app, startApplicantWebHost];\n`,
    rules: ['import-x/no-restricted-paths', 'no-restricted-imports'],
  },
  'not even Electron types': {
    path: 'kiosk-shell/src/core/layer-probe.ts',
    code: `import type { BrowserWindow } from 'electron';\nexport type Probe = BrowserWindow;\n`,
    rules: ['no-restricted-imports'],
  },
  'a renderer imports no Node builtins, no Electron, nothing of the core': {
    path: 'kiosk-shell/src/renderer/layer-probe.ts',
    code: `import { readFileSync } from 'node:fs';\nimport { ipcRenderer } from 'electron';\nimport { KioskApi } from '../core/kiosk-api.ts';\nexport const probe = [readFileSync, ipcRenderer, KioskApi];\n`,
    rules: ['import-x/no-nodejs-modules', 'import-x/no-restricted-paths', 'no-restricted-imports', 'no-restricted-syntax'],
  },
  'a renderer may import the shared contract and strings': {
    path: 'desktop-applicant/src/renderer/layer-probe.ts',
    code: `import { formatReceiptNumber } from '@cert/common';\nimport { createWebTransport } from '@cert/common/browser';\nimport { applicantStrings } from '@cert/common/i18n';\nexport const probe = [formatReceiptNumber, createWebTransport, applicantStrings];\n`,
    rules: [],
  },
  'raw ipcRenderer only in a preload': {
    path: 'desktop-applicant/src/electron/layer-probe.ts',
    code: `import * as electron from 'electron';\nimport { ipcRenderer } from 'electron';\nexport const probe = [electron.ipcRenderer, ipcRenderer];\n`,
    rules: ['no-restricted-properties', 'no-restricted-syntax'],
  },
  'the preload may use ipcRenderer': {
    path: 'desktop-applicant/src/electron/preload.ts',
    code: `import * as electron from 'electron';\nimport { ipcRenderer } from 'electron';\nexport const probe = [electron.ipcRenderer, ipcRenderer];\n`,
    rules: [],
  },
  'server routes and sockets do not touch the store': {
    path: 'issuance-server/src/ws/layer-probe.ts',
    code: `import { SessionStore } from '../store/session-store.ts';\nexport const probe = SessionStore;\n`,
    rules: ['import-x/no-restricted-paths'],
  },
  'server services know nothing of routes and sockets': {
    path: 'issuance-server/src/services/layer-probe.ts',
    code: `import { errorHandler } from '../routes/http-errors.ts';\nimport { ApplicantSocketHub } from '../ws/applicant-socket.ts';\nexport const probe = [errorHandler, ApplicantSocketHub];\n`,
    rules: ['import-x/no-restricted-paths', 'import-x/no-restricted-paths'],
  },
  'the server store imports no service': {
    path: 'issuance-server/src/store/layer-probe.ts',
    code: `import { ServiceError } from '../services/service-error.ts';\nexport const probe = ServiceError;\n`,
    rules: ['import-x/no-restricted-paths'],
  },
  'no relative path into another workspace, tests included': {
    path: 'kiosk-shell/test/layer-probe.test.ts',
    code: `import { seedDemo } from '../../scripts/src/demo/seed-demo.ts';\nimport { formatReceiptNumber } from '../../common/src/receipt-number.ts';\nexport const probe = [seedDemo, formatReceiptNumber];\n`,
    rules: ['import-x/no-relative-packages', 'import-x/no-relative-packages'],
  },
  'no import cycles': {
    // http.ts imports catalog.ts; a catalog.ts importing http.ts closes the loop.
    path: 'common/src/contract/catalog.ts',
    code: `import { applicationSchema } from './http.ts';\nexport const probe = applicationSchema;\n`,
    rules: ['import-x/no-cycle'],
  },
};

describe('lint: layer rules', function () {
  // The first lint loads typescript-eslint and the resolver.
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: REPO_ROOT });

  for (const [name, probe] of Object.entries(PROBES)) {
    it(name, async () => {
      const [result] = await eslint.lintText(probe.code, { filePath: `${REPO_ROOT}/${probe.path}` });
      const rules = result!.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`).sort();
      assert.deepEqual(rules, probe.rules, JSON.stringify(result!.messages, null, 1));
    });
  }
});
