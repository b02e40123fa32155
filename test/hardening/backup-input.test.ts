/**
 * What no Velero backup holds is refused by the reader with a BackupError naming the backup and,
 * where one is to blame, the entry: bad names, duplicates, trailing garbage, special files, archives
 * without Velero's layout, items nested without bound, bytes that are not UTF-8.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { readBackup } from '../../src/backup/reader.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { tempDir } from '../helpers/scenario.js';
import { bytesSource, CLUSTER, deepItem, exampleEntries, gzipTar, MACHINE, rawTar, type RawEntry } from './hostile-backup.js';

const ITEM_DIR = 'resources/machines.cluster.x-k8s.io/namespaces';

async function refused(t: { throwsAsync: (p: Promise<unknown>) => Promise<Error | undefined> }, bytes: Buffer): Promise<Error> {
  const err = await t.throwsAsync(readBackup(bytesSource('hostile.tar.gz', bytes)));
  return err!;
}

function plus(...extra: RawEntry[]): RawEntry[] {
  return [...exampleEntries(), ...extra];
}

const machineBody = () => exampleEntries().find((e) => String(e.name).endsWith(MACHINE))!.body;

for (const [title, name] of [
  ['a ".." segment', `${ITEM_DIR}/../x.json`],
  ['a "." segment', `${ITEM_DIR}/./x.json`],
  ['an empty segment', `resources/machines.cluster.x-k8s.io//namespaces/production/x.json`],
  ['an absolute path', `/${ITEM_DIR}/production/x.json`],
  ['".." outside resources/', `metadata/../../etc/passwd`],
] as const) {
  test(`an entry name with ${title} is refused, naming the entry`, async (t) => {
    const err = await refused(t, gzipTar(plus({ name, body: machineBody() })));
    t.is(err.name, 'BackupError');
    t.is(err.message.split(': ')[1], name);
    t.regex(err.message, /absolute path|path segment/);
  });
}

test('an entry name that is not UTF-8 is refused, naming the entry', async (t) => {
  const name = Buffer.concat([Buffer.from(`${ITEM_DIR}/production/x`), Buffer.from([0xff, 0xfe]), Buffer.from('.json')]);
  const err = await refused(t, gzipTar(plus({ name, body: machineBody() })));
  t.regex(
    err.message,
    /^hostile\.tar\.gz: resources\/machines\.cluster\.x-k8s\.io\/namespaces\/production\/x.*\.json: entry name is not valid UTF-8$/,
  );
});

test('an entry name with control characters is shown escaped', async (t) => {
  const err = await refused(t, gzipTar(plus({ name: `${ITEM_DIR}/production/\u001b[31mred/../x.json`, body: machineBody() })));
  t.true(err.message.includes('\\x1b[31mred'), err.message);
  t.false(err.message.includes('\u001b'));
});

test('an entry body that is not UTF-8 is refused, naming the entry', async (t) => {
  const entries = exampleEntries().map((e) =>
    String(e.name).endsWith(CLUSTER)
      ? { ...e, body: Buffer.concat([e.body.subarray(0, 20), Buffer.from([0xc3, 0x28]), e.body.subarray(20)]) }
      : e,
  );
  const err = await refused(t, gzipTar(entries));
  t.is(err.message, `hostile.tar.gz: resources/${CLUSTER}: entry is not valid UTF-8`);
});

test('an entry the detector reads, written twice, is refused whichever copy comes first', async (t) => {
  const entries = exampleEntries();
  const copy = entries.find((e) => String(e.name).endsWith(MACHINE))!;
  for (const body of [copy.body, Buffer.from(copy.body.toString().replace('prod-payments', 'elsewhere'))]) {
    const err = await refused(t, gzipTar([...entries, { name: copy.name, body }]));
    t.regex(err.message, new RegExp(`^hostile\\.tar\\.gz: resources/${MACHINE.replace(/\./g, '\\.')}: the archive holds this entry twice`));
  }
});

test('an entry the detector skips may repeat (nothing reads it)', async (t) => {
  const other = { name: 'resources/configmaps/namespaces/default/c.json', body: Buffer.from('{}') };
  await t.notThrowsAsync(readBackup(bytesSource('ok.tar.gz', gzipTar(plus(other, other)))));
});

test('gzip followed by garbage names the backup and what is wrong, not an entry', async (t) => {
  for (const tail of [Buffer.from('GARBAGE'.repeat(100)), Buffer.from([0x1f, 0x8b, 0x09, 0x00])]) {
    const err = await refused(t, Buffer.concat([gzipTar(exampleEntries()), tail]));
    t.is(
      err.message,
      'hostile.tar.gz: the gzip data is followed by bytes that are not gzip: the file was damaged or appended to after Velero wrote it',
    );
  }
});

test('gzip followed by zero padding is read (tape blocking pads with zeros)', async (t) => {
  const objects = await readBackup(bytesSource('padded.tar.gz', Buffer.concat([gzipTar(exampleEntries()), Buffer.alloc(4096)])));
  t.is(objects.clusters.length, 4);
});

test('an item nested 100,000 deep is refused by entry, not as a RangeError', async (t) => {
  const err = await refused(t, gzipTar(plus({ name: `${ITEM_DIR}/production/deep.json`, body: deepItem('deep', 100_000) })));
  t.is(err.name, 'BackupError');
  t.is(err.message, `hostile.tar.gz: ${ITEM_DIR}/production/deep.json: entry is nested deeper than 512 levels`);
});

test('an archive without metadata/version or resources/ within the probe is not a Velero backup', async (t) => {
  const junk = Array.from({ length: DEFAULTS.backup.probeEntries + 1 }, (_, i) => ({ name: `junk/${i}.txt`, body: Buffer.from('x') }));
  const err = await refused(t, gzipTar([...junk, ...exampleEntries()]));
  t.regex(
    err.message,
    /^hostile\.tar\.gz: not a Velero backup: no metadata\/version and no resources\/ entry in its first 1000 entries or 64 MiB$/,
  );
});

test('an endless stream of zeros ends at the probe bound, naming the source', async (t) => {
  let sent = 0;
  const zeros = new Readable({
    read() {
      sent += 1024 * 1024;
      this.push(Buffer.alloc(1024 * 1024));
    },
  });
  const err = await t.throwsAsync(readBackup({ description: 's3://b/zero.tar', open: async () => zeros }));
  t.regex(err.message, /^s3:\/\/b\/zero\.tar: not a Velero backup/);
  t.true(sent < DEFAULTS.backup.probeBytes + 16 * 1024 * 1024, `read ${sent} bytes`);
  t.true(zeros.destroyed);
});

test('a device, a directory and a FIFO are refused before reading', async (t) => {
  const dir = await tempDir('drift-special-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const [path, what] of [
    ['/dev/zero', 'a device'],
    [dir, 'a directory'],
    [fifo, 'a pipe'],
  ] as const) {
    const err = await t.throwsAsync(readBackup(fileBackupSource(path)));
    t.is(err.message, `${path}: cannot open the backup: it is ${what}, not a backup file (a .tar.gz or .tar)`);
  }
});

test('a plain tar (no gzip) with trailing garbage after its end blocks is refused by the tar reader, naming the backup', async (t) => {
  const err = await refused(t, Buffer.concat([rawTar(exampleEntries()), Buffer.from('x'.repeat(512))]));
  t.is(err.name, 'BackupError');
  t.true(err.message.startsWith('hostile.tar.gz: '));
});
