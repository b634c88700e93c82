// How the kiosk reads a printer's IPP state (the live printer is in rig/ipp-printer.test.ts).
import assert from 'node:assert/strict';
import { classifyPrinter } from '../../src/core/ipp-printer.ts';

describe('printer state classification', () => {
  const base = { state: 'idle' as const, acceptingJobs: true };

  it('reads an idle printer without reasons as ready', () => {
    const s = classifyPrinter({ ...base, reasons: ['none'] });
    assert.equal(s.condition, 'ready');
    assert.equal(s.ready, true);
    assert.deepEqual(s.reasons, []);
  });

  it('maps reasons whatever their severity suffix', () => {
    assert.equal(classifyPrinter({ ...base, reasons: ['media-empty-report'] }).condition, 'media-empty');
    assert.equal(classifyPrinter({ ...base, reasons: ['media-needed-warning'] }).condition, 'media-empty');
    assert.equal(classifyPrinter({ ...base, reasons: ['media-jam-error'] }).condition, 'media-jam');
    assert.equal(classifyPrinter({ ...base, reasons: ['cover-open-error'] }).condition, 'door-open');
    assert.equal(classifyPrinter({ ...base, reasons: ['door-open'] }).condition, 'door-open');
    assert.equal(classifyPrinter({ ...base, reasons: ['toner-empty-warning'] }).condition, 'toner-empty');
    assert.equal(classifyPrinter({ ...base, reasons: ['marker-supply-empty-error'] }).condition, 'toner-empty');
  });

  it('ignores low-supply warnings and puts the most actionable fault first', () => {
    assert.equal(classifyPrinter({ ...base, reasons: ['toner-low-report', 'media-low-warning'] }).condition, 'ready');
    assert.equal(classifyPrinter({ ...base, reasons: ['media-empty-warning', 'media-jam-error'] }).condition, 'media-jam');
  });

  it('treats a stopped printer, one refusing jobs, or an unknown -error reason as stopped', () => {
    assert.equal(classifyPrinter({ state: 'stopped', reasons: [], acceptingJobs: true }).condition, 'stopped');
    const refusing = classifyPrinter({ state: 'idle', reasons: [], acceptingJobs: false });
    assert.equal(refusing.condition, 'stopped');
    assert.match(refusing.message, /not accepting jobs/);
    assert.equal(classifyPrinter({ ...base, reasons: ['fuser-over-temp-error'] }).condition, 'stopped');
    assert.equal(classifyPrinter({ ...base, reasons: ['fuser-over-temp-report'] }).condition, 'ready');
  });
});
