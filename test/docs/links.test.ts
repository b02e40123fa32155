/**
 * The README fits in one sitting, and every relative link in it and in docs/*.md leads somewhere:
 * the file exists, and an #anchor is a heading (as GitHub spells its anchors) or an explicit id
 * of the page it points into.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../plugin/helpers.js';

const MAX_README_LINES = 250;
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The lines of a Markdown file outside fenced code blocks. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, each space a '-'; repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = heading[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const id of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1]!);
  }
  return anchors;
}

/** The relative link targets of a Markdown file (inline code and absolute URLs left out). */
function linksOf(text: string): string[] {
  const targets: string[] = [];
  for (const line of prose(text)) {
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const link of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(link[1]!)) targets.push(link[1]!);
    }
  }
  return targets;
}

test(`the README is at most ${MAX_README_LINES} lines`, (t) => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;
  t.true(lines <= MAX_README_LINES, `README.md has ${lines} lines`);
});

test('every relative link in README.md and docs/*.md resolves, file and #anchor', (t) => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const target of linksOf(text)) {
      checked++;
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
      if (!existsSync(file)) {
        broken.push(`${page}: ${target}: no file ${relative(ROOT, file)}`);
        continue;
      }
      if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${page}: ${target}: no heading or id "${anchor}" in ${relative(ROOT, file)}`);
      }
    }
  }
  t.true(checked > 50, `only ${checked} links found: is the link pattern right?`);
  t.deepEqual(broken, []);
});

test("anchors are GitHub's: code marks and punctuation dropped, repeats numbered", (t) => {
  const anchors = anchorsOf(
    '# `drift-detector serve`: the gRPC service\n## Memory in Velero\'s pod\n## Try it\n## Try it\n```\n# not a heading\n```\n<a id="mhc"></a>\n',
  );
  t.deepEqual([...anchors].sort(), ['drift-detector-serve-the-grpc-service', 'memory-in-veleros-pod', 'mhc', 'try-it', 'try-it-1']);
});
