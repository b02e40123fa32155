/**
 * Preload (`node --import`) that writes the process's peak RSS to $BENCH_MAX_RSS_FILE when it
 * exits: how the benchmark reads the memory of a program it does not change, such as the CLI.
 */
import { writeFileSync } from 'node:fs';
import { ownPeakRssBytes } from '../../test/helpers/peak-rss.js';

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ maxRssBytes: ownPeakRssBytes() }));
  });
}
