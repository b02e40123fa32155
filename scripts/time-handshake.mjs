#!/usr/bin/env node
// Times the plugin's start as Velero's go-plugin host sees it: spawn to the first stdout line (the
// handshake), with RSS and CPU time (user + system, which load does not inflate as much) right then, beside a bare `node -e ''` spawned to exit, interleaved so both
// see the same load. Several executables (e.g. two builds) are timed in turn within each run.
// Usage: node scripts/time-handshake.mjs [runs=7] [executable=dist/drift-detector ...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const runs = Number(process.argv[2] ?? 7);
const executables = process.argv.length > 3 ? process.argv.slice(3) : [join(root, 'dist', 'drift-detector')];
const TIMEOUT_MS = 30_000;
/** USER_HZ: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS = 100;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timed(command, args, env, untilLine) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (!untilLine || !out.includes('\n')) return;
      const elapsed = ms();
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
      // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name: utime, stime in ticks.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      const cpu = ((Number(stat[11]) + Number(stat[12])) * 1000) / CLOCK_TICKS;
      child.kill('SIGTERM');
      clearTimeout(timer);
      resolve({ ms: elapsed, rss, cpu });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (untilLine) reject(new Error(`exited with ${code} before a line: ${err.trim()}`));
      else resolve({ ms: ms() });
    });
  });
}

const env = { PATH: process.env.PATH, VELERO_PLUGIN: 'hello', PLUGIN_PROTOCOL_VERSIONS: '2', VELERO_NAMESPACE: 'velero' };
const plugins = executables.map(() => []);
const node = [];
const before = loadavg();
for (let i = 0; i < runs; i++) {
  node.push((await timed(process.execPath, ['-e', ''], { PATH: process.env.PATH }, false)).ms);
  for (const [j, executable] of executables.entries()) plugins[j].push(await timed(executable, [], env, true));
}
const after = loadavg();
const fmt = (xs) => xs.map((x) => Math.round(x)).join(' ');
console.log(`load (1 min) before ${before[0].toFixed(2)}, after ${after[0].toFixed(2)}; ${runs} runs`);
for (const [j, executable] of executables.entries()) {
  const ms = plugins[j].map((p) => p.ms);
  const rss = plugins[j].map((p) => p.rss);
  const cpu = plugins[j].map((p) => p.cpu);
  console.log(executable);
  console.log(`  start to handshake: median ${Math.round(median(ms))} ms  [${fmt(ms)}]`);
  console.log(`  CPU to handshake:   median ${Math.round(median(cpu))} ms  [${fmt(cpu)}]`);
  console.log(`  RSS at handshake:   median ${Math.round(median(rss))} MiB [${fmt(rss)}]`);
}
console.log(`node -e '' to exit:   median ${Math.round(median(node))} ms  [${fmt(node)}]`);
