// Build the web client: bundle app/main.jsx (Preact, JSX) and its CSS with esbuild into
// <out>/assets/ with content hashes in the names, then write <out>/index.html naming them.
// nginx serves index.html with no-cache and the assets for a year (immutable).
//   node build.mjs --out DIR
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--out');
const out = i > 0 ? process.argv[i + 1] : join(here, 'dist');
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(join(tmp, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, 'app/main.jsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome109', 'firefox115', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: join(tmp, 'assets'),
  publicPath: '/assets/',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

let js, css;
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) {
    js = basename(file);
    if (meta.cssBundle) css = basename(meta.cssBundle);
  }
}
if (!js || !css) throw new Error('esbuild produced no script or no stylesheet');

const icon = readFileSync(join(here, 'app/icon.svg'));
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 10)}.svg`;
writeFileSync(join(tmp, 'assets', iconName), icon);
// The same icon under a stable name, for /l/{id} pages (rendered by the query pool, which
// does not know the hash) and for browsers that ask for /favicon.ico by themselves.
writeFileSync(join(tmp, 'favicon.svg'), icon);

// No inline script or style: the CSP allows 'self' only.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>marketd</title>
<meta name="description" content="Buy and sell second-hand things near you.">
<link rel="icon" href="/assets/${iconName}" type="image/svg+xml">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading marketd…</p></div>
<noscript><p>marketd needs JavaScript. Listings can still be read at their shared links (/l/…).</p></noscript>
</body>
</html>
`;
writeFileSync(join(tmp, 'index.html'), html);

// Replace the previous build in one step.
rmSync(`${out}.old`, { recursive: true, force: true });
try { renameSync(out, `${out}.old`); } catch { /* first build */ }
renameSync(tmp, out);
rmSync(`${out}.old`, { recursive: true, force: true });
console.log(`built ${out}: assets/${js}, assets/${css}, assets/${iconName}`);
