'use strict';
// A stand-in process for the measuring tools (bench.js, wire-cpu.js), and their options.

const { spawn } = require('child_process');
const BSON = require('bson');

/** opt(name, default): the value after `name` in argv. */
const options = (argv) => (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};

/** The stand-in's node flags as scripts/lib/mongo.sh starts it (its young generation's limit). */
const STANDIN_NODE_FLAGS = ['--max-semi-space-size=8'];

/**
 * What every measuring tool reads from its argv: opt(name, default), --docs (the listings to
 * load), --only (the shapes whose name contains it) and --node-flags (the flags the stand-in
 * is started with; scripts/lib/mongo.sh's unless told otherwise).
 */
function toolOptions() {
  const args = process.argv.slice(2);
  const opt = options(args);
  return {
    args,
    opt,
    docs: Number(opt('--docs', 10000)),
    only: opt('--only', ''),
    nodeFlags: opt('--node-flags', STANDIN_NODE_FLAGS.join(' ')).split(' ').filter(Boolean),
  };
}

/**
 * Starts `node flags server --port 0 serverArgs`; resolves with {child, port, file} once it
 * listens.
 */
function startServer(file, flags, serverArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, file, '--port', '0', ...serverArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    let listening = false;
    child.stdout.on('data', (d) => {
      if (listening) { process.stderr.write(d); return; } // what node flags print (--trace-gc ...)
      const m = /listening on [\d.]+:(\d+)/.exec(String(d));
      if (m) {
        listening = true;
        resolve({ child, port: Number(m[1]), file });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

let requestId = 1;
/** An OP_MSG (for server.js handleMessage): body (kind 0) and, when `docs`, one document sequence (kind 1) named `id`. */
function opMsg(body, id, docs) {
  const b = BSON.serialize(body);
  const ds = (docs || []).map((d) => BSON.serialize(d));
  const idBytes = Buffer.from(`${id}\u0000`, 'utf8');
  const seqLen = docs ? 4 + idBytes.length + ds.reduce((a, d) => a + d.length, 0) : 0;
  const buf = Buffer.alloc(21 + b.length + (docs ? 1 + seqLen : 0));
  buf.writeInt32LE(buf.length, 0);
  buf.writeInt32LE(requestId++, 4);
  buf.writeInt32LE(2013, 12);
  let p = 20;
  buf[p++] = 0;
  p += b.copy(buf, p);
  if (!docs) return buf;
  buf[p++] = 1;
  buf.writeInt32LE(seqLen, p);
  p += 4;
  p += idBytes.copy(buf, p);
  for (const d of ds) p += d.copy(buf, p);
  return buf;
}

module.exports = { STANDIN_NODE_FLAGS, options, toolOptions, startServer, opMsg };
