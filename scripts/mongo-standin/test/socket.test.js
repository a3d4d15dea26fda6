'use strict';
// --socket PATH: the server on a unix socket beside its TCP port (the stack's marketd uses it;
// scripts/lib/mongo.sh), one store behind both; a stale socket file is replaced, and the file
// is removed when the server stops.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer } = require('../tools/standin-process');
const { WireClient } = require('../tools/wireclient');

const SERVER = path.join(__dirname, '..', 'server.js');

test('the unix socket and the TCP port serve one store; the file goes with the server', { timeout: 30000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-sock-'));
  const sock = path.join(dir, 'mongo.sock');
  fs.writeFileSync(sock, 'stale'); // a file left by a killed server
  // Both listeners bind before either says it listens (no lookup for an IP or a path).
  const { child, port } = await startServer(SERVER, [], ['--socket', sock]);
  try {
    assert.ok(fs.statSync(sock).isSocket(), 'the stale file was replaced by the socket');
    const viaSocket = await WireClient.connect(sock);
    const viaTcp = await WireClient.connect(port);
    await viaSocket.run('socktest', { insert: 'docs', documents: [{ _id: 'a', n: 1 }] });
    const r = await viaTcp.run('socktest', { find: 'docs', filter: { _id: 'a' } });
    assert.strictEqual(r.cursor.firstBatch.length, 1);
    const c = await viaSocket.run('socktest', { count: 'docs' });
    assert.strictEqual(Number(c.n), 1);
    // whatsmyuri (and the profiler's client field) name the peer: an address and port over
    // TCP, not "undefined:undefined" over the socket.
    assert.strictEqual((await viaSocket.run('admin', { whatsmyuri: 1 })).you, 'anonymous unix socket');
    assert.match((await viaTcp.run('admin', { whatsmyuri: 1 })).you, /^127\.0\.0\.1:\d+$/);
    viaSocket.close();
    viaTcp.close();
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  assert.ok(!fs.existsSync(sock), 'the socket file is removed when the server stops');
  fs.rmSync(dir, { recursive: true, force: true });
});
