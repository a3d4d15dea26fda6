#!/usr/bin/env node
'use strict';
/*
 * The stand-in's CPU per query over the wire (not a test): the search mix's commands as
 * src/query/browse.c sends them, one at a time, against one or more stand-in processes
 * loaded alike; CPU from /proc/PID/stat (utime + stime) around each round.
 *   node tools/wire-cpu.js [--docs 10000] [--queries 2000] [--rounds 3] [--only TEXT]
 *        [--server "PATH [NODE FLAGS] [-- SERVER ARGS]"]... [--node-flags "..."] [--cpu-prof DIR]
 *        [--project 0,1,...]
 * Every --server (default this tree's server.js) gets the same documents and, round after
 * round, the same commands, the servers taking turns (so a loaded machine weighs on each
 * alike). --cpu-prof DIR starts the servers under node --cpu-prof (profiles in DIR, written
 * at exit). --project: per server (in --server order), 1 to end every pipeline with browse's
 * $project of the shown fields (src/query/browse.c since the plan cache pass), 0 without (as
 * browse sent them before). Prints, per server and round, the mix's CPU ms per query and per
 * shape, then each server's reply cache counters (serverStatus standinReplyCache, when it has
 * one). SERVER ARGS after `--` go to server.js (`-- --reply-cache-mb 0`: without the cache).
 */
const { toolOptions, startServer: start } = require('./standin-process');
const { WireClient } = require('./wireclient');
const { demoListings, LISTING_INDEXES, BROWSE_PROJECT, browseMix: mix } = require('./demo-docs');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { args, opt, docs: N, only: ONLY, nodeFlags: NODE_FLAGS } = toolOptions();
const QUERIES = Number(opt('--queries', 2000));
const ROUNDS = Number(opt('--rounds', 3));
const PROF = opt('--cpu-prof', '');
// --server "PATH [node flags...] [-- server args]": flags added to --node-flags for that server.
const servers = args.flatMap((a, i) => (a === '--server' ? [args[i + 1].split(' ').filter(Boolean)] : []))
  .map(([file, ...rest]) => {
    const cut = rest.indexOf('--');
    return { file: path.resolve(file), flags: cut < 0 ? rest : rest.slice(0, cut), serverArgs: cut < 0 ? [] : rest.slice(cut + 1) };
  });
if (!servers.length) servers.push({ file: path.join(__dirname, '..', 'server.js'), flags: [], serverArgs: [] });
const PROJECT = opt('--project', '').split(',').map((x) => x === '1');
const TICK_MS = 1000 / 100; // USER_HZ

const statTicks = (pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpuMs = (pid) => {
  const f = statTicks(pid);
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
};
const sysMs = (pid) => Number(statTicks(pid)[12]) * TICK_MS; // the kernel's share (the socket)

const startServer = ({ file, flags, serverArgs }) => start(file, [...NODE_FLAGS, ...flags, ...(PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : [])], serverArgs);

const projected = (cmd) => ({ ...cmd, pipeline: [...cmd.pipeline, { $project: BROWSE_PROJECT }] });

async function load(srv, docs) {
  const c = await WireClient.connect(srv.port);
  await c.run('bench', { createIndexes: 'listings', indexes: LISTING_INDEXES });
  for (let i = 0; i < docs.length; i += 1000) await c.run('bench', { insert: 'listings', documents: docs.slice(i, i + 1000) });
  srv.client = c;
}

async function main() {
  const data = demoListings(N, { seed: 42 });
  const shapes = Object.entries(mix(data)).filter(([name]) => !ONLY || name.includes(ONLY));
  const started = [];
  try {
    for (const srv of servers) {
      const s = await startServer(srv);
      const project = PROJECT[started.length] === true;
      const shown = [srv.file, ...srv.flags, ...(srv.serverArgs.length ? ['--', ...srv.serverArgs] : [])].join(' ');
      started.push(Object.assign(s, { file: shown + (project ? ' ($project)' : ''), project }));
    }
    for (const srv of started) await load(srv, data.docs);
    // Warm-up (JIT) and a settled heap before the first round.
    const cmdOf = (srv, make, i) => (srv.project ? projected(make(i)) : make(i));
    for (const srv of started) for (let i = 0; i < 200; i++) for (const [, make] of shapes) await srv.client.run('bench', cmdOf(srv, make, i));
    console.log(`${N} listings, ${QUERIES} queries a round (the shapes in turn), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const totals = started.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [s, srv] of started.entries()) {
        const per = shapes.map(() => 0);
        let returned = 0;
        const t0 = cpuMs(srv.child.pid);
        const s0 = sysMs(srv.child.pid);
        for (let q = 0; q < QUERIES; q++) {
          const k = q % shapes.length;
          const c0 = cpuMs(srv.child.pid); // 10 ms ticks: the per-shape split is an average over many
          const reply = await srv.client.run('bench', cmdOf(srv, shapes[k][1], r * QUERIES + q));
          returned += reply.cursor.firstBatch.length;
          per[k] += cpuMs(srv.child.pid) - c0;
        }
        const ms = (cpuMs(srv.child.pid) - t0) / QUERIES;
        const sys = (sysMs(srv.child.pid) - s0) / QUERIES;
        totals[s].push(ms);
        const detail = shapes.map(([name], k) => `${name} ${(per[k] / (QUERIES / shapes.length)).toFixed(2)}`).join(', ');
        console.log(`round ${r + 1} ${srv.file}: ${ms.toFixed(3)} ms CPU per query, ${sys.toFixed(3)} of it system (${(returned / QUERIES).toFixed(1)} documents a reply; ${detail})`);
      }
    }
    for (const [s, srv] of started.entries()) {
      const t = [...totals[s]].sort((a, b) => a - b);
      console.log(`${srv.file}: ${t.map((x) => x.toFixed(3)).join(' ')} ms per query (median ${t[Math.floor(t.length / 2)].toFixed(3)})`);
    }
    for (const srv of started) {
      const rc = (await srv.client.run('admin', { serverStatus: 1 })).standinReplyCache;
      if (!rc) continue;
      const n = (k) => Number(rc[k]);
      const rate = n('hits') / Math.max(1, n('hits') + n('misses'));
      console.log(`${srv.file}: reply cache ${(100 * rate).toFixed(1)} % hits (${n('hits')} of ${n('hits') + n('misses')} documents), ${n('liveEntries')} entries, ${(n('liveBytes') / 1048576).toFixed(1)} of ${(n('maxBytes') / 1048576).toFixed(0)} MB, ${n('evicted')} evicted`);
    }
    console.log(`load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    for (const srv of started) {
      if (srv.client) srv.client.close();
      srv.child.kill('SIGTERM');
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
