// The JSON client over a kept-alive connection that the server closes as the next request goes
// out: the reset comes before any answer, so the request was never read and is sent again on a
// new connection (a POST included); a reset after the server read the request is not retried.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { callJson, NetworkError } from '../../src/node/http-json-client.ts';

const ok = (n: number) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${String(n).length + 6}\r\nConnection: keep-alive\r\n\r\n{"n":${n}}`;

/** A raw HTTP/1.1 server: answers requests in order by `plan`, counting the requests it read and the connections. */
function rawServer(plan: (socket: Socket, nth: number) => void): Promise<{ close: () => void; url: string; connections: () => number }> {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      // Every request here has a small JSON body after its headers; one arrives whole in one read.
      while (buffered.includes('\r\n\r\n')) {
        const [head, rest] = [buffered.slice(0, buffered.indexOf('\r\n\r\n')), buffered.slice(buffered.indexOf('\r\n\r\n') + 4)];
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (rest.length < length) return;
        buffered = rest.slice(length);
        plan(socket, ++requests);
      }
    });
    socket.on('error', () => undefined);
  });
  // Closing ends the kept-alive connections too, so that nothing holds the test process open.
  const close = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ close, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections })));
}

const post = (baseUrl: string) => callJson({ baseUrl }, { method: 'POST', path: '/x', body: { a: 1 } }, z.object({ n: z.number() }));

describe('JSON client: kept-alive connections closed by the server', () => {
  it('a reset of a reused connection before the request was read: sent again on a new connection', async () => {
    // The second request arrives on the kept-alive connection and the server resets it unread,
    // as when its idle timer fires just as the client sends.
    const seen: number[] = [];
    const { close, url, connections } = await rawServer((socket, nth) => {
      seen.push(nth);
      if (nth === 2) socket.resetAndDestroy();
      else socket.write(ok(nth));
    });
    try {
      assert.deepEqual(await post(url), { n: 1 });
      assert.deepEqual(await post(url), { n: 3 });
      assert.equal(connections(), 2, 'the retry used a new connection');
      assert.deepEqual(seen, [1, 2, 3]);
    } finally {
      close();
    }
  });

  it('a connection reset on every try is an error after one retry, not a loop', async () => {
    let reads = 0;
    const { close, url } = await rawServer((socket, nth) => {
      reads = nth;
      if (nth === 1) socket.write(ok(1));
      else socket.resetAndDestroy();
    });
    try {
      await post(url);
      await assert.rejects(post(url), (e: unknown) => e instanceof NetworkError && /ECONNRESET/.test(e.message));
      assert.equal(reads, 3, 'the first try and one retry');
    } finally {
      close();
    }
  });
});
