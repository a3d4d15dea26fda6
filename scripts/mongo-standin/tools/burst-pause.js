#!/usr/bin/env node
'use strict';
/*
 * Bursts of the projector's upserts over the wire, and the pauses a reader sees (not a test).
 *   node tools/burst-pause.js [--docs 100000] [--burst 2000] [--rounds 3] [--idle 6]
 *        [--server "PATH [NODE FLAGS]"]... [--node-flags "..."]
 * Every --server (default this tree's server.js) is started and filled as a projector's
 * rebuild fills it: the rebuild's two listing indexes, --docs versioned upserts
 * ({_id, version: {$lt}}, $set, $setOnInsert; unordered update commands of 500), then
 * createIndexes of the other seven. Then, round after round, the servers taking turns: a
 * burst of --burst new listings upserted the same way, then --idle seconds without a message
 * (a message would push the stand-in's idle timer back). The servers run with --trace-gc: the
 * pauses of their major GCs (an atomic one's whole pause; an incremental one's final pause
 * and its biggest step) are read from it, in the burst and in the quiet after, with the
 * stand-in's own log lines (forced or started collections). Prints per server and round: the
 * server's CPU ms per upsert (/proc/PID/stat), the burst's wall time, the major GCs and the
 * longest pause in each phase, and RSS.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { toolOptions } = require('./standin-process');
const { WireClient } = require('./wireclient');
const { demoListings, versionedUpsert, LISTING_INDEXES, REBUILD_INDEXES } = require('./demo-docs');

const { args, opt, docs: N, nodeFlags: NODE_FLAGS } = toolOptions();
const BURST = Number(opt('--burst', 2000));
const ROUNDS = Number(opt('--rounds', 3));
const IDLE_S = Number(opt('--idle', 6));
const BATCH = 500;
const servers = args.flatMap((a, i) => (a === '--server' ? [args[i + 1].split(' ').filter(Boolean)] : []))
  .map(([file, ...flags]) => ({ file: path.resolve(file), flags }));
if (!servers.length) servers.push({ file: path.join(__dirname, '..', 'server.js'), flags: [] });

const TICK_MS = 1000 / 100; // USER_HZ
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The projector's versioned upserts of docs[from, to) (src/projector/projections.c), in commands of BATCH. */
async function upsert(c, docs, from, to) {
  for (let i = from; i < to; i += BATCH) {
    const updates = docs.slice(i, Math.min(i + BATCH, to)).map((d, k) => versionedUpsert(d, i + k + 1));
    const r = await c.run('market', { update: 'listings', updates, ordered: false });
    if (r.writeErrors) throw new Error(`write errors: ${r.writeErrors.length}`);
  }
}

/** Starts `node flags --trace-gc file --port 0`; resolves {child, port, gcLines} once it listens. */
function start(file, flags) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--trace-gc', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const srv = { child, gcLines: [] };
    let listening = false;
    const feed = (d) => {
      for (const line of String(d).split('\n')) {
        const m = /listening on [\d.]+:(\d+)/.exec(line);
        if (m && !listening) {
          listening = true;
          srv.port = Number(m[1]);
          resolve(srv);
        } else if (/Mark-Compact|forced|incremental GC/.test(line)) srv.gcLines.push(line);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('exit', (code) => { if (!listening) reject(new Error(`server exited ${code}`)); });
  });
}

/** The major GCs among lines: how many, and the longest pause of the thread (ms). */
function pauses(lines) {
  let n = 0;
  let longest = 0;
  for (const l of lines) {
    const mc = /Mark-Compact.*?MB, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ [\d.]+ ms in \d+ steps since start of marking, biggest step ([\d.]+) ms)?/.exec(l);
    if (mc) {
      n++;
      longest = Math.max(longest, Number(mc[1]), Number(mc[2] || 0));
    }
  }
  return `${n} major GC${n === 1 ? '' : 's'}, longest pause ${longest.toFixed(0)} ms`;
}

async function main() {
  const { docs } = demoListings(N + BURST * ROUNDS, { seed: 7, sellers: 200 });
  const started = [];
  try {
    for (const srv of servers) {
      const s = await start(srv.file, [...NODE_FLAGS, ...srv.flags]);
      s.name = [srv.file, ...srv.flags].join(' ');
      s.client = await WireClient.connect(s.port);
      started.push(s);
    }
    await Promise.all(started.map(async (s) => {
      const early = LISTING_INDEXES.filter((i) => REBUILD_INDEXES.includes(i.name));
      await s.client.run('market', { createIndexes: 'listings', indexes: early });
      await upsert(s.client, docs, 0, N);
      await s.client.run('market', { createIndexes: 'listings', indexes: LISTING_INDEXES });
    }));
    console.log(`${N} listings loaded and indexed in each; bursts of ${BURST}, ${IDLE_S} s quiet after each; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    await sleep(IDLE_S * 1000);
    const sums = started.map(() => 0);
    let at = N;
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, s] of (r % 2 ? [...started.entries()].reverse() : started.entries())) {
        const pid = s.child.pid;
        s.gcLines.length = 0;
        const c0 = cpuMs(pid);
        const t0 = process.hrtime.bigint();
        await upsert(s.client, docs, at, at + BURST);
        const wall = Number(process.hrtime.bigint() - t0) / 1e6;
        const cpu = cpuMs(pid) - c0;
        const inBurst = pauses(s.gcLines.splice(0));
        await sleep(IDLE_S * 1000);
        const quietLines = s.gcLines.splice(0);
        const quiet = pauses(quietLines);
        const own = quietLines.filter((l) => /forced|incremental GC/.test(l)).map((l) => l.replace('mongo-standin: ', ''));
        sums[k] += cpu / BURST;
        console.log(`round ${r + 1} ${s.name}: ${(cpu / BURST).toFixed(3)} cpu-ms per upsert, burst ${wall.toFixed(0)} ms ` +
          `(${(BURST / (wall / 1000)).toFixed(0)}/s); in the burst ${inBurst}; in the quiet after ${quiet}${own.length ? ` (${own.join('; ')})` : ''}; ` +
          `RSS ${rssMb(pid).toFixed(0)} MB; load ${os.loadavg()[0].toFixed(1)}`);
      }
      at += BURST;
    }
    for (const [k, s] of started.entries()) console.log(`${s.name}: ${(sums[k] / ROUNDS).toFixed(3)} cpu-ms per upsert on average`);
  } finally {
    for (const s of started) s.child.kill();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
