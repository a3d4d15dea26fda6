'use strict';
// A stand-in process for the measuring tools (bench.js, wire-cpu.js), and their options.

const { spawn } = require('child_process');

/** opt(name, default): the value after `name` in argv. */
const options = (argv) => (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};

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
    nodeFlags: opt('--node-flags', '--max-semi-space-size=2').split(' ').filter(Boolean),
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

module.exports = { options, toolOptions, startServer };
