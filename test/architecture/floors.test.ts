/**
 * The floors of docs/architecture.md, checked from the code: every import of src/ points to the
 * same folder or down the floors, no door imports another door (but the CLI's entry files, which
 * start the process), and no files import each other in a circle. The table here and the one in
 * the document must agree, so neither can move alone.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from '../plugin/helpers.js';

/** Each folder of src/ and its floor: a module imports its own folder or a lower floor. `.` is src/ itself. */
const FLOORS: Record<string, number> = {
  '.': 0,
  util: 0,
  model: 1,
  drift: 2,
  gate: 2,
  remediate: 2,
  config: 3,
  kube: 4,
  backup: 4,
  vsphere: 4,
  workload: 5,
  storage: 5,
  forecast: 5,
  report: 6,
  app: 7,
  rpc: 8,
  cli: 9,
  grpc: 9,
  plugin: 9,
  webhook: 9,
  serve: 10,
};

/** The doors: on one floor, and none imports another. */
const DOORS = ['cli', 'grpc', 'plugin', 'webhook'];

/** The files that compose the process: the CLI's entry may start the plugin, and `serve` (which is above the doors). */
const ENTRY_FILES = /^cli\/(main|entry|program|sea-main|serve-command)\.ts$/;

const SRC = join(ROOT, 'src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(SRC, join(dir, e.name))] : [],
  );
}

/** The src/ files a file imports (static, type-only, re-exported or dynamic), relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every folder of src/ has a floor', (t) => {
  const folders = [...new Set(files.map(folderOf))].sort();
  t.deepEqual(
    folders.filter((f) => FLOORS[f] === undefined),
    [],
    'place a new folder on a floor, here and in docs/architecture.md',
  );
});

/** Each import that runs up (or sideways on) the floors, or from one door to another. */
function upward(imports: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of imports) {
    const from = folderOf(file);
    for (const target of targets) {
      const to = folderOf(target);
      if (to === from) continue;
      if (ENTRY_FILES.test(file) && (to === 'plugin' || to === 'serve')) continue;
      const doorToDoor = DOORS.includes(to) && DOORS.includes(from);
      if (doorToDoor || FLOORS[to]! >= FLOORS[from]!) wrong.push(`${file} -> ${target} (${from} ${FLOORS[from]} -> ${to} ${FLOORS[to]})`);
    }
  }
  return wrong;
}

test('imports point to the same folder or down the floors; doors do not import doors', (t) => {
  t.deepEqual(upward(graph), []);
});

test('src/config imports no source: only the analysis types, the model and util', (t) => {
  const sources = ['kube', 'backup', 'vsphere', 'workload', 'storage'];
  const wrong = files
    .filter((f) => folderOf(f) === 'config')
    .flatMap((f) =>
      graph
        .get(f)!
        .filter((target) => sources.includes(folderOf(target)))
        .map((target) => `${f} -> ${target}`),
    );
  t.deepEqual(wrong, []);
});

test('no files import each other in a circle', (t) => {
  // Tarjan's strongly connected components: any with more than one file is a circle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) circles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  t.deepEqual(circles, []);
});

test('the floors in docs/architecture.md are these', (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const documented: Record<string, number> = {};
  // Rows of the floors table: | 3 | `config`, `report` | ... |
  for (const row of doc.matchAll(/^\|\s*(\d+)\s*\|([^|]+)\|/gm)) {
    for (const folder of row[2]!.matchAll(/`src\/([a-z]*)\/?`/g)) documented[folder[1] || '.'] = Number(row[1]);
  }
  t.deepEqual(documented, FLOORS);
});

test('the check sees what it must: dynamic and type-only imports, an import up, a door importing a door', (t) => {
  t.true(importsOf('cli/serve-command.ts').includes('serve/start.ts'), 'dynamic imports are read');
  t.true(importsOf('grpc/server.ts').includes('app/service.ts'), 'type-only imports are read');
  const found = upward(
    new Map([
      ['app/x.ts', ['grpc/server.ts', 'storage/s3-url.ts']],
      ['config/y.ts', ['storage/s3-url.ts']],
      ['grpc/z.ts', ['webhook/server.ts', 'rpc/calls.ts']],
      ['cli/program.ts', ['plugin/server.ts', 'serve/start.ts']],
      ['cli/detect-command.ts', ['serve/start.ts']],
    ]),
  );
  t.deepEqual(
    found.map((w) => w.split(' (')[0]),
    [
      'app/x.ts -> grpc/server.ts',
      'config/y.ts -> storage/s3-url.ts',
      'grpc/z.ts -> webhook/server.ts',
      'cli/detect-command.ts -> serve/start.ts',
    ],
  );
});
