/**
 * Preload (`node --import`) that writes the process's peak RSS to $BENCH_MAX_RSS_FILE when it
 * exits: how the benchmark reads the memory of a program it does not change, such as the CLI.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) {
  process.on('exit', () => {
    // resourceUsage().maxRSS is in KiB.
    writeFileSync(file, JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
  });
}
