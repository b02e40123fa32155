/**
 * Child process of the tarball-scan measure: reads one backup with readBackup alone and prints
 * one JSON line, {ms, maxRssBytes, entries...}. With --noop it only loads the reader: the floor
 * of a Node process that could read a backup.
 *
 *   node build/bench/probes/read-backup.js FILE | --noop
 */
import { fileBackupSource } from '../../src/backup/file-source.js';
import { readBackup } from '../../src/backup/reader.js';
import { ownPeakRssBytes } from '../../test/helpers/peak-rss.js';

const [arg] = process.argv.slice(2);
if (!arg) {
  process.stderr.write('usage: read-backup.js FILE | --noop\n');
  process.exit(2);
}
if (arg === '--noop') {
  print({ ms: 0, maxRssBytes: maxRssBytes() });
} else {
  const started = process.hrtime.bigint();
  const objects = await readBackup(fileBackupSource(arg));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  print({
    ms,
    maxRssBytes: maxRssBytes(),
    clusters: objects.clusters.length,
    machines: objects.machines.length,
    secrets: objects.secrets.length,
  });
}

function maxRssBytes(): number {
  return ownPeakRssBytes();
}

function print(result: Record<string, number>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
