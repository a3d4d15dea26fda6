'use strict';
// server.js's collections after loads (issue 19, ninth pass): after 1 MB of writes received and
// 2 s without messages the server starts V8's incremental, memory-reducing collection, and
// never forces an atomic full GC (a Mark-Compact with reason "testing": gc()). Reads never
// start one (thirteenth pass).

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const net = require('node:net');
const { WireClient } = require('../tools/wireclient');

const SERVER = path.join(__dirname, '..', 'server.js');

/** The server's stdout (V8's --trace-gc lines) and stderr (its log), and a wait for a line. */
function start(env = {}, flags = []) {
  const child = spawn(process.execPath, ['--max-semi-space-size=2', '--trace-gc', ...flags, SERVER, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines = [];
  const waiters = [];
  const feed = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (!line) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(lines.length - 1);
        }
      }
    }
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  /** Resolves the index of the first line (from `from` on) that matches re; fails after `ms` (30 s). */
  const waitFor = (re, from = 0, ms = 30000) => {
    const i = lines.findIndex((l, k) => k >= from && re.test(l));
    if (i >= 0) return Promise.resolve(i);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} in ${ms / 1000} s:\n${lines.join('\n')}`)), ms);
      waiters.push({ re, resolve: (k) => { clearTimeout(timer); resolve(k); } });
    });
  };
  /** The server's port, once it says where it listens, and a client of it. */
  const port = async () => Number(/listening on [\d.]+:(\d+)/.exec(lines[await waitFor(/listening on/)])[1]);
  const client = async () => WireClient.connect(await port());
  return { child, lines, waitFor, port, client };
}

/** Inserts n documents make(0..n-1) into coll, `batch` to a command. */
async function insertDocs(c, coll, n, make, batch = 500) {
  for (let i = 0; i < n; i += batch) {
    const documents = Array.from({ length: Math.min(batch, n - i) }, (_, k) => make(i + k));
    await c.run('gcpolicy', { insert: coll, documents });
  }
}

test('a load is followed by an incremental memory-reducing GC, never a forced full one', { timeout: 60000 }, async () => {
  const s = start();
  try {
    const c = await s.client();
    const filler = 'x'.repeat(1000);
    await insertDocs(c, 'docs', 1500, (j) => ({ _id: `gc-${j}`, filler }));
    const started = await s.waitFor(/incremental GC started \(2000 ms idle/);
    // Ended on the idle server by its own steps (server.js's poke): without them this marking
    // waited 17-20 s for the steps its timers' garbage brought.
    await s.waitFor(/Mark-Compact \(reduce\)/, started, 10000);
    await c.run('gcpolicy', { ping: 1 });
    c.close();
    assert.deepStrictEqual(s.lines.filter((l) => /forced full GC|Mark-Compact.*testing/.test(l)), []);
  } finally {
    s.child.kill();
  }
});

// Issue 19, sixteenth pass: V8's incremental-marking task is off (server.js), so a marking
// runs in the concurrent marker and in steps inside allocations, never in back-to-back tasks
// on the server's thread; on an idle server the server's timer takes the steps that end it.
test('a marking takes no step in V8\'s task, and ends on an idle server', { timeout: 60000 }, async () => {
  const s = start({}, ['--trace-incremental-marking']);
  try {
    const c = await s.client();
    // A heap with something to mark: 20,000 documents of 30 fields.
    await insertDocs(c, 'marks', 20000, (j) => {
      const d = { _id: `m-${j}` };
      for (let f = 0; f < 30; f++) d[`f${f}`] = `v${j}-${f}`;
      return d;
    }, 1000);
    const started = await s.waitFor(/incremental GC started \(2000 ms idle/);
    await s.waitFor(/Mark-Compact \(reduce\)/, started, 10000);
    const steps = s.lines.filter((l) => /\[IncrementalMarking\] Step in/.test(l));
    assert.ok(steps.length > 0, 'no marking step was traced');
    assert.deepStrictEqual(steps.filter((l) => /Step in task/.test(l)), []);
    c.close();
  } finally {
    s.child.kill();
  }
});

test('an index build over a filled collection starts the collection at once', { timeout: 60000 }, async () => {
  const s = start({ STANDIN_BULK_INDEX_DOCS: '1500' });
  try {
    const c = await s.client();
    const filler = 'x'.repeat(200);
    const insert = (coll, n) => insertDocs(c, coll, n, (j) => ({ _id: `${coll}-${j}`, n: j, filler }));
    // Below the threshold: no start for the build (a later idle one may come: not this one).
    await insert('small', 1000);
    await c.run('gcpolicy', { createIndexes: 'small', indexes: [{ key: { n: 1 }, name: 'n_1' }] });
    // At the threshold: started right after the build, before any idle start could come.
    await insert('big', 1500);
    const from = s.lines.length;
    const t0 = Date.now();
    await c.run('gcpolicy', { createIndexes: 'big', indexes: [{ key: { n: 1 }, name: 'n_1' }] });
    const i = await s.waitFor(/incremental GC started \(index build on big, 1500 documents\)/, from);
    assert.ok(Date.now() - t0 < 1500, `started ${Date.now() - t0} ms after the build, not after the 2 s idle`);
    await s.waitFor(/Mark-Compact \(reduce\)/, i);
    assert.deepStrictEqual(s.lines.filter((l) => /index build on small/.test(l)), []);
    // An index that already exists builds nothing and starts nothing.
    const again = s.lines.length;
    await c.run('gcpolicy', { createIndexes: 'big', indexes: [{ key: { n: 1 }, name: 'n_1' }] });
    await c.run('gcpolicy', { ping: 1 });
    assert.deepStrictEqual(s.lines.slice(again).filter((l) => /index build on/.test(l)), []);
    c.close();
  } finally {
    s.child.kill();
  }
});

test('reads never start a collection, however many bytes they bring; writes do', { timeout: 60000 }, async () => {
  const s = start({ STANDIN_GC_EVERY_MB: '1' });
  try {
    const c = await s.client();
    await c.run('gcpolicy', { insert: 'reads', documents: [{ _id: 'r', s: 'a' }] });
    // 4.5 MB of queries (4.5 times the threshold): each carries a 100 KB string no document holds.
    const big = 'q'.repeat(100 * 1024);
    for (let i = 0; i < 15; i++) {
      await c.run('gcpolicy', { find: 'reads', filter: { s: big } });
      await c.run('gcpolicy', { aggregate: 'reads', pipeline: [{ $match: { s: big } }], cursor: {} });
      await c.run('gcpolicy', { count: 'reads', query: { s: big } });
    }
    // A mark in the server's log between the two phases: a connection that sends a message of
    // length 0 is logged and closed. The log is one ordered stream, and a start is logged before
    // the server reads its next message, so a start the reads had caused would come before it.
    const port = await s.port();
    await new Promise((resolve, reject) => {
      const raw = net.connect(port, '127.0.0.1', () => raw.write(Buffer.alloc(4)));
      raw.on('close', resolve);
      raw.on('error', reject);
    });
    const mark = await s.waitFor(/invalid message length 0/);
    // Then 1.5 MB of inserts (~517 KB each: the third crosses 1 MB, and no idle start can come
    // before it): one start, after the mark.
    const filler = 'x'.repeat(1000);
    await insertDocs(c, 'reads', 1500, (j) => ({ _id: `w-${j}`, filler }));
    const first = await s.waitFor(/incremental GC started/);
    assert.ok(first > mark, `a start came with the reads: ${s.lines[first]}`);
    assert.match(s.lines[first], /incremental GC started \(1 MB of writes received\)/);
    c.close();
  } finally {
    s.child.kill();
  }
});

test('every command the collection policy counts as a read is a command of the server', () => {
  const { handlers, READS } = require('../lib/commands');
  for (const name of READS) assert.ok(Object.prototype.hasOwnProperty.call(handlers, name), `${name} is no command`);
});
