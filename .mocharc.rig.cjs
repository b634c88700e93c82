// `npm run test:rig`: every test that is not a unit test (.mocharc.unit.cjs) — the virtual card
// through pcscd/vpcd, ippeveprinter, both UIs in Chromium, spawned CLIs and servers, packaging.
// They live in <workspace>/test/rig/ (issuance-server: test/cli/).
const unit = require('./.mocharc.unit.cjs');

module.exports = { ...unit, spec: ['{common,desktop-applicant,issuance-server,kiosk-shell,scripts}/test/**/*.test.ts'], ignore: unit.spec };
