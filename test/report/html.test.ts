/**
 * `detect --format html` as a browser shows it: Debian's chromium driven by puppeteer-core, on a
 * desktop and a phone viewport, with no console error and no network request, the JSON's counts
 * on the page, and the answer first: on the first desktop screen (1280×800) the verdict and every
 * Ghost of the bundled example. The page's Content-Security-Policy stops a script. Screenshots are
 * kept under build/test-artifacts/ (their paths are logged).
 */
import test, { type ExecutionContext } from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ROLLUP_ORDER, type DriftReport } from '../../src/model/report.js';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderHtml } from '../../src/report/html.js';
import { exampleReport, exampleVCenterDownReport } from '../helpers/example-report.js';
import { driftedReport, HOSTILE } from '../helpers/remediate-report.js';

const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, deviceScaleFactor: 1 };

let browser: Browser;

test.before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'], timeout: 60_000 });
});

test.after.always(async () => {
  await browser?.close();
});

/** Opens the page in a tab of that viewport; `problems` collects console errors, page errors and requests. */
async function open(name: string, html: string, viewport: typeof DESKTOP | typeof PHONE): Promise<{ tab: Page; problems: string[] }> {
  const file = join(ARTIFACTS, `${name}.html`);
  await writeFile(file, html);
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
  return { tab, problems };
}

async function screenshot(t: ExecutionContext, tab: Page, name: string, fullPage = true): Promise<void> {
  const shot = join(ARTIFACTS, `${name}.png`);
  await tab.screenshot({ path: shot, fullPage });
  t.log(`screenshot: ${shot}`);
}

/** Whether the element lies wholly within the first screen of the viewport. */
const onFirstScreen = (tab: Page, selector: string) =>
  tab.$$eval(selector, (els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      const { innerHeight, innerWidth } = globalThis as unknown as Window;
      return {
        text: (el.textContent ?? '').slice(0, 60),
        inside: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth,
      };
    }),
  );

/** What the page needs of the browser's window (the tests compile without the DOM's types). */
interface Window {
  innerHeight: number;
  innerWidth: number;
  document: { documentElement: { scrollWidth: number } };
}

const machinesOf = (report: DriftReport) => report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]);

test.serial('the bundled example: the first desktop screen shows the verdict and every Ghost; desktop and phone screenshots', async (t) => {
  const report = await exampleReport();
  const html = renderHtml(report, remediationPlan(report));
  const ghosts = machinesOf(report).filter((m) => m.status === 'Ghost');
  t.true(ghosts.length > 0);
  const desktop = await open('example', html, DESKTOP);
  await screenshot(t, desktop.tab, 'example-desktop-first-screen', false);
  t.deepEqual(await onFirstScreen(desktop.tab, '#verdict'), [
    { text: (await desktop.tab.$eval('#verdict', (v) => v.textContent ?? '')).slice(0, 60), inside: true },
  ]);
  const shown = await onFirstScreen(desktop.tab, 'li.todo-ghost');
  t.is(shown.length, ghosts.length, 'one to-do per Ghost');
  t.true(
    shown.every((g) => g.inside),
    JSON.stringify(shown),
  );
  t.deepEqual(
    await desktop.tab.$$eval('li.todo-ghost', (items) => items.map((i) => i.getAttribute('data-machine'))),
    ghosts.map((g) => g.name),
  );
  // Worst first; Healthy clusters are folded, the others open; every machine is on the page.
  t.deepEqual(
    await desktop.tab.$$eval('details.cluster', (ds) =>
      ds.map((d) => [d.getAttribute('data-status'), (d as unknown as { open: boolean }).open]),
    ),
    [...report.clusters]
      .sort((a, b) => ROLLUP_ORDER.indexOf(a.status) - ROLLUP_ORDER.indexOf(b.status))
      .map((c) => [c.status, c.status !== 'Healthy']),
  );
  t.is(await desktop.tab.$$eval('tr.machine', (rows) => rows.length), machinesOf(report).length);
  // On screen only what needs something is unfolded; on paper every machine shows.
  const visibleRows = () =>
    desktop.tab.$$eval('tr.machine', (rows) => rows.filter((r) => (r as unknown as { checkVisibility(): boolean }).checkVisibility()).length);
  t.is(await visibleRows(), machinesOf(report).filter((m) => m.status !== 'Healthy').length);
  await desktop.tab.emulateMediaType('print');
  t.is(await visibleRows(), machinesOf(report).length, 'printed, the folded machines show');
  t.deepEqual(desktop.problems, []);
  await screenshot(t, desktop.tab, 'example-desktop-print');
  const phone = await open('example', html, PHONE);
  await screenshot(t, phone.tab, 'example-phone');
  t.true((await onFirstScreen(phone.tab, '#verdict'))[0]!.inside);
  t.false(
    await phone.tab.evaluate(() => {
      const w = globalThis as unknown as Window;
      return w.document.documentElement.scrollWidth > w.innerWidth;
    }),
    'nothing wider than the phone',
  );
  t.deepEqual(phone.problems, []);
});

test.serial('a report with every kind of finding: the JSON counts, escaped names, errors and warnings counted apart', async (t) => {
  const report = driftedReport();
  const html = renderHtml(report, remediationPlan(report));
  for (const [name, viewport] of [
    ['drifted-desktop', DESKTOP],
    ['drifted-phone', PHONE],
  ] as const) {
    const { tab, problems } = await open('drifted', html, viewport);
    const text = (id: string) => tab.$eval(`#${id}`, (el) => el.textContent ?? '');
    const s = report.summary;
    t.is(await text('count-clusters'), String(s.clusters.total), name);
    t.is(await text('count-required'), String(s.clusters.ManualRemediationRequired));
    t.is(await text('count-infra'), String(s.infraMachinesNeedFurtherConfirmation));
    t.is(await text('count-ignored'), String(s.ignoredVMs));
    t.is(await text('count-errors'), String(report.errors.filter((x) => x.severity === 'error').length));
    t.is(await text('count-warnings'), String(report.errors.filter((x) => x.severity === 'warning').length));
    t.is(await text('summary-status'), s.status);
    const machines = machinesOf(report);
    t.is(await tab.$$eval('tr.machine[data-status="Ghost"]', (rows) => rows.length), machines.filter((m) => m.status === 'Ghost').length);
    t.is(await tab.$$eval('tr.machine', (rows) => rows.length), machines.length);
    t.is(await tab.$$eval('tr.infra', (rows) => rows.length), report.infraMachines.length);
    t.true((await tab.$eval('body', (b) => b.textContent ?? '')).includes(HOSTILE.replace('\n', ' ').slice(0, 20)));
    if (viewport === DESKTOP)
      t.true(
        (await onFirstScreen(tab, 'li.todo-ghost')).every((g) => g.inside),
        'every Ghost on the first screen',
      );
    await screenshot(t, tab, name);
    t.deepEqual(problems, [], name);
    await tab.close();
  }
});

test.serial('a vCenter down: its cause once at the top, the Unknown rows refer to it', async (t) => {
  const report = await exampleVCenterDownReport();
  const failure = report.errors.find((x) => x.scope === 'vcenter:vcenter.example.com');
  t.truthy(failure, 'the example vCenter cannot be listed here');
  const { tab, problems } = await open('vcenter-down', renderHtml(report, remediationPlan(report)), DESKTOP);
  await screenshot(t, tab, 'vcenter-down-desktop');
  const todo = await onFirstScreen(tab, 'li.todo-vcenter');
  t.is(todo.length, 1);
  t.true(todo[0]!.inside);
  const body = await tab.$eval('body', (b) => b.textContent ?? '');
  t.is(body.split(failure!.message).length - 1, 1, 'the cause is told once');
  const unknown = machinesOf(report).filter((m) => m.status === 'Unknown').length;
  t.true(unknown > 0);
  t.is(await tab.$$eval('tr.machine[data-status="Unknown"] a[href="#vcenter-1"]', (links) => links.length), unknown);
  t.deepEqual(problems, []);
});

test.serial('the Content-Security-Policy stops a script that slipped into the page', async (t) => {
  const report = await exampleReport();
  const html = renderHtml(report, remediationPlan(report)).replace('<h1>', '<script>document.title = "ran"</script><h1>');
  const { tab, problems } = await open('csp', html, DESKTOP);
  t.not(await tab.title(), 'ran');
  t.true(
    problems.some((p) => /Content Security Policy/i.test(p)),
    problems.join('\n'),
  );
});
