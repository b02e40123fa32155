#!/usr/bin/env node
// Builds dist/drift-detector: the whole program as one Node single executable application, for
// images without Node (Velero's) and without node_modules.
//   1. esbuild bundles src/cli/sea-main.ts into one CommonJS file (Node 20's SEA runs only that);
//   2. the protos are embedded: ours (proto/) and the ones grpc-health-check and @grpc/reflection
//      read from their package folders at run time, parsed here (protobufjs JSON) so that a plugin
//      process does not parse proto text before its handshake; the vendor modules' `__dirname`
//      and proto-loader are pointed at them;
//   3. the packages only an analysis needs are bundled apart and embedded as assets (LAZY_GROUPS);
//   4. `node --experimental-sea-config` makes the blob (with V8's code cache of the main bundle, so
//      a plugin process does not compile it at every start), postject injects it into a copy of node;
//   5. the result is run once from an empty directory to prove it stands alone.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledProtos, embeddedProtos, packageDir, VENDOR_PROTOS } from './embedded-protos.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, 'package.json'));
const esbuild = require('esbuild');
const { inject } = require('postject');

const output = join(root, 'dist', 'drift-detector');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Each vendor module gets a `__dirname` below the embedded root of src/rpc/protos.ts and, for
 * `require('@grpc/proto-loader')`, a loadSync that takes the protos parsed at build time and never
 * touches the file system for them. src/rpc/protos.ts gets proto-loader evaluated at its first
 * call: with the parsed protos, a plugin process needs none of it (nor of the protobufjs parser
 * and descriptor extension it brings) to reach its handshake.
 */
const embeddedProtoLoader = {
  name: 'embedded-proto-loader',
  setup(build) {
    const targets = new Map();
    for (const { pkg, modules } of VENDOR_PROTOS) {
      const dir = packageDir(pkg);
      for (const module of modules) targets.set(join(dir, module), `vendor/${pkg}/${dirname(module)}`);
    }
    const protosPath = join(root, 'src', 'rpc', 'protos.ts');
    const protosModule = JSON.stringify(protosPath);
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const below = targets.get(args.path);
      if (below === undefined) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const prelude = `var __dirname = require("node:path").join(require(${protosModule}).EMBEDDED_PROTO_ROOT, ${JSON.stringify(below)});\n`;
      return { contents: prelude + source, loader: 'js', resolveDir: dirname(args.path) };
    });
    build.onResolve({ filter: /^@grpc\/proto-loader$/ }, (args) => {
      if (targets.has(args.importer)) return { path: 'vendor', namespace: 'embedded-proto-loader' };
      if (args.importer === protosPath) return { path: 'lazy', namespace: 'embedded-proto-loader' };
      return undefined;
    });
    const protoLoader = JSON.stringify(require.resolve('@grpc/proto-loader'));
    const contents = {
      vendor: `module.exports = { loadSync: (...args) => require(${protosModule}).loadEmbeddedSync(...args) };`,
      lazy: `let real;\nconst load = () => (real ??= require(${protoLoader}));\nmodule.exports = { loadSync: (...args) => load().loadSync(...args), fromJSON: (...args) => load().fromJSON(...args) };`,
    };
    build.onLoad({ filter: /.*/, namespace: 'embedded-proto-loader' }, (args) => ({
      contents: contents[args.path],
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * Optional native helpers some dependencies try to load (`try { require('bufferutil') } catch {}`).
 * They are not installed; left as require() calls, the executable's require (built-ins only) would
 * print a warning at start. A module that throws "not found" keeps the dependencies' fallbacks.
 */
const OPTIONAL_MISSING = ['bufferutil', 'utf-8-validate', 'encoding'];
const optionalMissing = {
  name: 'optional-missing',
  setup(build) {
    const filter = new RegExp(`^(${OPTIONAL_MISSING.map((m) => m.replace(/[-/]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'optional-missing' }));
    build.onLoad({ filter: /.*/, namespace: 'optional-missing' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}'`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

/**
 * Packages only an analysis needs (the Kubernetes client, the S3 client, the SOAP client): each
 * group is bundled on its own and embedded as a SEA asset, and the main bundle gets a stand-in
 * that compiles the asset at the first require. A plugin process that only answers ListPlugins
 * or a remote-mode Execute never parses them: V8 keeps a script's whole source in its heap and
 * scans all of it at compile time, so their megabytes would cost memory and start time in every
 * process Velero starts. Groups share nothing with the main bundle that needs one identity.
 */
const LAZY_GROUPS = [
  { asset: 'kubernetes.cjs', packages: ['@kubernetes/client-node'] },
  { asset: 'aws.cjs', packages: ['@aws-sdk/client-s3', '@aws-sdk/credential-providers', '@smithy/node-http-handler'] },
  { asset: 'soap.cjs', packages: ['soap'] },
];

const LAZY_LOADER = `
const loaded = new Map();
module.exports = function loadLazyGroup(asset) {
  let exports = loaded.get(asset);
  if (exports === undefined) {
    const source = require('node:sea').getAsset(asset, 'utf8');
    const module = { exports: {} };
    const params = ['exports', 'require', 'module', '__filename', '__dirname'];
    require('node:vm').compileFunction(source, params, { filename: asset }).call(module.exports, module.exports, require, module, __filename, __dirname);
    loaded.set(asset, (exports = module.exports));
  }
  return exports;
};`;

/** Main bundle: each lazy package becomes `loadLazyGroup(asset)[package]`, evaluated on first use. */
const lazyPackages = {
  name: 'lazy-packages',
  setup(build) {
    const groupOf = new Map(LAZY_GROUPS.flatMap(({ asset, packages }) => packages.map((pkg) => [pkg, asset])));
    const filter = new RegExp(`^(${[...groupOf.keys()].map((p) => p.replace(/[-/.@]/g, '\\$&')).join('|')}|lazy-group-loader)$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'lazy-package' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents:
        args.path === 'lazy-group-loader'
          ? LAZY_LOADER
          : `module.exports = require('lazy-group-loader')(${JSON.stringify(groupOf.get(args.path))})[${JSON.stringify(args.path)}];`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

async function main() {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'drift-detector-sea-'));
  try {
    const bundle = join(work, 'drift-detector.cjs');
    const texts = embeddedProtos(root);
    const common = {
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // import() becomes require(): neither the code-cached main script nor a vm-compiled group has
      // a dynamic import callback in a single executable (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
      supported: { 'dynamic-import': false },
      logLevel: 'warning',
      legalComments: 'none',
      // Without comments the source is ASCII: V8 keeps it as one byte per character, not two.
      minifyWhitespace: true,
      define: {
        DRIFT_DETECTOR_EMBEDDED_PROTOS: JSON.stringify(texts),
        // A string for JSON.parse: V8 parses JSON faster than an object literal of the same size.
        DRIFT_DETECTOR_COMPILED_PROTOS: JSON.stringify(JSON.stringify(compiledProtos(root))),
        // Modules written as ESM read import.meta.url; in the executable it is the executable.
        'import.meta.url': '__drift_detector_import_meta_url',
      },
      banner: { js: 'var __drift_detector_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    };
    const result = await esbuild.build({
      ...common,
      entryPoints: [join(root, 'src', 'cli', 'sea-main.ts')],
      outfile: bundle,
      plugins: [embeddedProtoLoader, optionalMissing, lazyPackages],
    });
    if (result.errors.length) throw new Error('esbuild failed');
    const assets = {};
    for (const { asset, packages } of LAZY_GROUPS) {
      const entry = `module.exports = {${packages.map((p) => `${JSON.stringify(p)}: require(${JSON.stringify(p)})`).join(', ')}};`;
      assets[asset] = join(work, asset);
      const built = await esbuild.build({
        ...common,
        stdin: { contents: entry, resolveDir: root, sourcefile: asset, loader: 'js' },
        outfile: assets[asset],
        plugins: [optionalMissing],
      });
      if (built.errors.length) throw new Error(`esbuild failed for ${asset}`);
    }

    const blob = join(work, 'sea-prep.blob');
    const config = join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets }));
    run(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });

    mkdirSync(dirname(output), { recursive: true });
    const staging = `${output}.tmp`;
    copyFileSync(process.execPath, staging);
    chmodSync(staging, 0o755);
    // postject warns about ELF note sections it does not know; the result runs all the same.
    const warn = console.warn;
    console.warn = () => {};
    try {
      await inject(staging, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
    } finally {
      console.warn = warn;
    }

    // Stands alone: no node_modules, no proto/ beside it, any working directory.
    const empty = mkdtempSync(join(work, 'empty-'));
    const version = execFileSync(staging, ['--version'], { cwd: empty, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' }).trim();
    rmSync(output, { force: true });
    copyFileSync(staging, output);
    chmodSync(output, 0o755);
    rmSync(staging, { force: true });
    const mb = (statSync(output).size / 1024 / 1024).toFixed(0);
    console.log(
      `build-plugin: ${relative(root, output)} (${mb} MiB, version ${version}, ${Object.keys(texts).length} protos) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`build-plugin: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
