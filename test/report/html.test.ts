/**
 * `detect --format html`: the page as people read it (golden), and as a browser shows it: Debian's
 * chromium driven by puppeteer-core, on a phone and a desktop viewport, with no console error, no
 * network request, and the counts of the JSON on the page. Screenshots are kept under
 * build/test-artifacts/ (their paths are logged).
 */
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderHtml } from '../../src/report/html.js';
import { driftedReport, HOSTILE } from '../helpers/remediate-report.js';

const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const page = () => {
  const report = driftedReport();
  return { report, html: renderHtml(report, remediationPlan(report)) };
};

test('html in chromium: loads without console errors or requests, shows the JSON counts, phone and desktop screenshots', async (t) => {
  const { report, html } = page();
  await mkdir(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, 'report.html');
  await writeFile(file, html);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
    timeout: 60_000,
  });
  t.teardown(() => browser.close());
  for (const [name, viewport] of [
    ['phone', { width: 390, height: 844, isMobile: true, deviceScaleFactor: 2 }],
    ['desktop', { width: 1280, height: 900 }],
  ] as const) {
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
    });
    tab.on('pageerror', (err) => problems.push(`pageerror: ${String(err)}`));
    tab.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await tab.setViewport(viewport);
    await tab.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    const text = (id: string) => tab.$eval(`#${id}`, (el) => el.textContent ?? '');
    const s = report.summary;
    t.is(await text('count-clusters'), String(s.clusters.total), name);
    t.is(await text('count-required'), String(s.clusters.ManualRemediationRequired));
    t.is(await text('count-infra'), String(s.infraMachinesNeedFurtherConfirmation));
    t.is(await text('count-ignored'), String(s.ignoredVMs));
    t.is(await text('summary-status'), s.status);
    const machines = report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]);
    t.is(await tab.$$eval('tr.machine[data-status="Ghost"]', (rows) => rows.length), machines.filter((m) => m.status === 'Ghost').length);
    t.is(await tab.$$eval('tr.machine', (rows) => rows.length), machines.length);
    t.is(await tab.$$eval('tr.infra', (rows) => rows.length), report.infraMachines.length);
    t.true((await tab.$eval('body', (b) => b.textContent ?? '')).includes(HOSTILE.replace('\n', ' ').slice(0, 20)));
    const shot = join(ARTIFACTS, `report-${name}.png`);
    await tab.screenshot({ path: shot, fullPage: true });
    t.log(`screenshot: ${shot}`);
    t.deepEqual(problems, [], name);
    await tab.close();
  }
});
