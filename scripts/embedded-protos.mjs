// The protos the single executable embeds (scripts/build-plugin.mjs), as texts and parsed, by
// path below proto/: ours, and those grpc-health-check and @grpc/reflection load from their
// package folders at run time (below vendor/<package>/). Tests compare the parsed ones with
// proto-loader's reading of the texts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(dirname(fileURLToPath(import.meta.url))), 'package.json'));

/**
 * Packages that load .proto files relative to their own modules, which modules do, and whether
 * they keep field names as written (proto-loader's keepCase, fixed when the text is parsed).
 */
export const VENDOR_PROTOS = [
  { pkg: 'grpc-health-check', modules: ['build/src/health.js'], protoDir: 'proto', keepCase: true },
  {
    pkg: '@grpc/reflection',
    modules: ['build/src/implementations/reflection-v1.js', 'build/src/implementations/reflection-v1alpha.js'],
    protoDir: 'build/proto/grpc',
    keepCase: false,
  },
];
/** Ours are loaded with keepCase (src/rpc/protos.ts) and import Velero's from their own root. */
const OWN_INCLUDE_SUBDIRS = ['', 'velero'];

function protoFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(path));
    else if (entry.name.endsWith('.proto')) out.push(path);
  }
  return out;
}

export function packageDir(pkg) {
  return dirname(require.resolve(`${pkg}/package.json`));
}

/** Path below proto/ -> text; vendor protos under vendor/<package>/proto/... */
export function embeddedProtos(root) {
  const texts = {};
  const own = join(root, 'proto');
  for (const file of protoFiles(own)) texts[relative(own, file).split(sep).join('/')] = readFileSync(file, 'utf8');
  for (const { pkg, protoDir } of VENDOR_PROTOS) {
    const dir = packageDir(pkg);
    for (const file of protoFiles(join(dir, protoDir)))
      texts[`vendor/${pkg}/${relative(dir, file).split(sep).join('/')}`] = readFileSync(file, 'utf8');
  }
  return texts;
}

/**
 * Each embedded proto parsed as proto-loader would parse it, with the files it imports, as
 * protobufjs JSON (path below proto/ -> JSON); src/rpc/protos.ts loads these with fromJSON.
 */
export function compiledProtos(root) {
  const protobuf = require('protobufjs');
  const compile = (file, includeDirs, keepCase) => {
    const parsed = new protobuf.Root();
    parsed.resolvePath = (origin, target) => {
      if (isAbsolute(target)) return target;
      const found = includeDirs.map((dir) => join(dir, target)).find((path) => existsSync(path));
      return found ?? protobuf.util.path.resolve(origin, target);
    };
    parsed.loadSync(file, { keepCase });
    parsed.resolveAll();
    return parsed.toJSON();
  };
  const out = {};
  const own = join(root, 'proto');
  for (const file of protoFiles(own)) {
    out[relative(own, file).split(sep).join('/')] = compile(
      file,
      OWN_INCLUDE_SUBDIRS.map((d) => join(own, d)),
      true,
    );
  }
  for (const { pkg, protoDir, keepCase } of VENDOR_PROTOS) {
    const dir = packageDir(pkg);
    for (const file of protoFiles(join(dir, protoDir)))
      out[`vendor/${pkg}/${relative(dir, file).split(sep).join('/')}`] = compile(file, [dirname(file)], keepCase);
  }
  return out;
}
