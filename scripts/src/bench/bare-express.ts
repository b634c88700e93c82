// The yardstick of the submit benchmark: a trivial Express 5 app in its own process that parses
// a JSON body the way the server does and answers an application-shaped JSON, with no storage,
// no session lookup and no audit. The parent forks it with tsx and receives its URL over IPC.
import { generateReceiptNumber } from '@cert/common';
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '64kb', strict: true, type: () => true }));
app.post('/api/v1/applications', (req, res) => {
  const body = req.body as { certificateType?: unknown; options?: Record<string, string>; copies?: unknown };
  if (!req.get('authorization') || typeof body.certificateType !== 'string' || typeof body.copies !== 'number') {
    res.status(400).json({ error: { code: 'invalid_request', message: 'invalid request' } });
    return;
  }
  const now = Date.now();
  res.status(201).json({
    applicationId: randomUUID(),
    receiptNumber: generateReceiptNumber(),
    status: 'submitted',
    expiresAt: new Date(now + 72 * 3600_000).toISOString(),
    fee: 200 * body.copies,
    certificateType: body.certificateType,
    options: body.options ?? {},
    copies: body.copies,
    createdAt: new Date(now).toISOString(),
  });
});
const server = app.listen(0, '127.0.0.1', () => {
  process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
process.on('disconnect', () => process.exit(0));
