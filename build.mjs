#!/usr/bin/env node
// Builds dist/hookrelay.mjs, the single file operators run.
//   node build.mjs               bundle src/main.ts into dist/hookrelay.mjs
//   node build.mjs --test [F…]   bundle, compile src/ and test/ into .build/, run the tests
//                                (all test/**/*.test.ts, or only the files named)
//   node build.mjs --bench [B…]  compile src/ and bench/ into .build/, run the benchmarks
//                                (all, or only those named), results in bench/results/
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('.', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// The status page's browser script, bundled on its own into one string that the relay serves
// at /status-page.js (src/status-page/routes.ts): the page needs no build step of its own.
async function statusPageScript() {
  const result = await build({
    entryPoints: [join(root, 'src', 'status-page', 'browser', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

const define = {
  HOOKRELAY_VERSION: JSON.stringify(version),
  STATUS_PAGE_SCRIPT: JSON.stringify(await statusPageScript()),
};

async function bundle() {
  const outfile = join(root, 'dist', 'hookrelay.mjs');
  await build({
    entryPoints: [join(root, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    define,
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
}

function filesUnder(folder, suffix) {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)));
}

// Each file is compiled on its own (no bundling), so .build/ mirrors the source tree and the
// tests and benchmarks import the same modules the bundle is made of.
async function compile(folders) {
  rmSync(join(root, '.build'), { recursive: true, force: true });
  await build({
    entryPoints: ['src', ...folders].flatMap((folder) => filesUnder(folder, '.ts')).map((f) => join(root, f)),
    outdir: join(root, '.build'),
    outbase: root,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    define,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

function runTests(only) {
  const chosen = only.length > 0 ? only : filesUnder('test', '.test.ts');
  const compiled = chosen.map((file) => join('.build', file.replace(/\.ts$/, '.js')));
  const result = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', '--test-reporter=spec', '--test-concurrency=3', '--test-timeout=60000', ...compiled],
    { cwd: root, stdio: 'inherit' },
  );
  return result.status ?? 1;
}

function runBenchmarks(only) {
  const result = spawnSync(process.execPath, [join('.build', 'bench', 'run.js'), ...only], { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

const args = process.argv.slice(2);
await bundle();
if (args[0] === '--test') {
  // The benchmarks' own logic (how a goal is judged) has tests, so they are compiled too.
  await compile(['test', 'bench']);
  process.exitCode = runTests(args.slice(1));
} else if (args[0] === '--bench') {
  await compile(['bench']);
  process.exitCode = runBenchmarks(args.slice(1));
}
