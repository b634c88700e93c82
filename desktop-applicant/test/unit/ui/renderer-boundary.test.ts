// The renderer must not use Node. tsconfig.renderer.json leaves Node's types out, but the
// renderer's global.d.ts takes the bridge's type from the preload, and the preload imports
// 'electron', whose typings reference Node's (`/// <reference types="node" />`): so Node's
// globals become nameable in the renderer program. This test keeps the rule: no identifier in
// the renderer (or the common code it bundles) may resolve only to a Node or Electron declaration.
import assert from 'node:assert/strict';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const CHECKED = [join(ROOT, 'desktop-applicant/src/renderer') + sep, join(ROOT, 'common/src') + sep];
const NODE_ONLY = [join(ROOT, 'common/src/node') + sep];
const FOREIGN = /node_modules[\\/](@types[\\/]node|electron)[\\/]/;

describe('renderer boundary: no Node or Electron API in renderer code', function () {
  this.timeout(60_000);

  it('every identifier in the renderer bundle resolves to the DOM, the language or our browser-safe code', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.renderer.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(String(d.messageText)) })!;
    const program = ts.createProgram(config.fileNames, config.options);
    const checker = program.getTypeChecker();
    const offences: string[] = [];
    for (const file of program.getSourceFiles()) {
      const inScope = CHECKED.some((d) => file.fileName.startsWith(d)) && !NODE_ONLY.some((d) => file.fileName.startsWith(d));
      if (!inScope) continue;
      const visit = (node: ts.Node) => {
        if (ts.isIdentifier(node)) {
          const declarations = checker.getSymbolAtLocation(node)?.declarations ?? [];
          if (declarations.length && declarations.every((d) => FOREIGN.test(d.getSourceFile().fileName))) {
            const { line } = file.getLineAndCharacterOfPosition(node.getStart());
            offences.push(`${relative(ROOT, file.fileName)}:${line + 1} ${node.text}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    assert.deepEqual(offences, []);
  });
});
