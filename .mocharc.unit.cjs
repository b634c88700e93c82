// `npm run test:unit`: the tests that need no rig, under a minute. They run pure code,
// in-process servers on 127.0.0.1 port 0, SQLite files in temp dirs and short tool runs
// (pdftotext, pdftoppm, esbuild) — never pcscd/vpcd, ippeveprinter, Chromium, PostgreSQL, or a
// CLI/server of ours in its own process. A test is a unit test by where it lives:
// <workspace>/test/unit/, plus two issuance-server folders named here. Every other test is a rig
// test (.mocharc.rig.cjs), so a test in no unit folder still runs in `npm test`.
const spec = [
  '{common,desktop-applicant,issuance-server,kiosk-shell,scripts}/test/unit/**/*.test.ts',
  'issuance-server/test/{documents,integration}/**/*.test.ts',
];

module.exports = { 'node-option': ['import=tsx'], timeout: 30_000, spec };
