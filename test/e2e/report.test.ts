import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import CDP from 'chrome-remote-interface';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/run/results.js';
import { writeReports } from '../../src/report/write.js';

// report.html opened for real in headless Chromium (Debian's `chromium`), driven over the
// DevTools protocol: no console error, no exception, no request leaving the file, every chart
// drawn with marks, a tooltip on hover, and the legend toggling a backend. The fixture run has
// errored (iptables over its sync budget) and skipped (ipvs unavailable) cases.

const FIXTURE = resolve('src/report/testdata/run');

interface Page {
  client: CDP.Client;
  problems: string[];
  requests: string[];
}

let work: string;
let profile: string;
let chromium: ChildProcess;
let page: Page;
let chartNames: string[];

/** Starts chromium on a free DevTools port (port 0: it prints the one it chose). */
async function startChromium(userDataDir: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(
    'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${userDataDir}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const port = await new Promise<number>((ok, fail) => {
    let err = '';
    const timer = setTimeout(() => fail(new Error(`chromium did not print its DevTools port in 20 s:\n${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.on('exit', (code) => fail(new Error(`chromium exited (${code}) before listening:\n${err}`)));
    proc.on('error', fail);
  });
  return { proc, port };
}

const evaluate = async <T>(expression: string): Promise<T> => {
  const r = await page.client.Runtime.evaluate({ expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error(`evaluating ${expression}: ${r.exceptionDetails.text}`);
  return r.result.value as T;
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'svcbench-report-'));
  profile = await mkdtemp(join(tmpdir(), 'svcbench-chromium-'));
  const files = await writeReports(work, await readRun(FIXTURE));
  chartNames = files.filter((f) => f.startsWith('charts/')).map((f) => f.slice('charts/'.length, -'.svg'.length));
  const started = await startChromium(profile);
  chromium = started.proc;
  const client = await CDP({ port: started.port });
  page = { client, problems: [], requests: [] };
  client.Runtime.consoleAPICalled(({ type, args }) => {
    if (type === 'error' || type === 'assert')
      page.problems.push(`console.${type}: ${args.map((a) => a.value ?? a.description).join(' ')}`);
  });
  client.Runtime.exceptionThrown(({ exceptionDetails: e }) => page.problems.push(`exception: ${e.exception?.description ?? e.text}`));
  client.Log.entryAdded(({ entry }) => {
    if (entry.level === 'error') page.problems.push(`log: ${entry.text} ${entry.url ?? ''}`);
  });
  client.Network.requestWillBeSent(({ request }) => page.requests.push(request.url));
  await Promise.all([client.Runtime.enable(), client.Log.enable(), client.Network.enable(), client.Page.enable()]);
  await client.Emulation.setDeviceMetricsOverride({ width: 1400, height: 1000, deviceScaleFactor: 1, mobile: false });
  const loaded = client.Page.loadEventFired();
  await client.Page.navigate({ url: pathToFileURL(join(work, 'report.html')).href });
  await loaded;
  for (let i = 0; i < 100; i++) {
    const state = await evaluate<string | null>("document.body.getAttribute('data-charts')");
    if (state !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await page?.client.close().catch(() => undefined);
  if (chromium?.pid) {
    try {
      process.kill(-chromium.pid, 'SIGKILL'); // its whole process group: renderer, GPU, zygote
    } catch {
      // already gone
    }
    await new Promise((r) => (chromium.exitCode === null && chromium.signalCode === null ? chromium.once('exit', r) : r(null)));
  }
  await rm(profile, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('report.html in headless chromium', () => {
  it('renders every chart with marks, with no console error or exception', async () => {
    expect(await evaluate<string>("document.body.getAttribute('data-charts')")).toBe('rendered');
    const charts = await evaluate<{ id: string; marks: number; svg: boolean }[]>(`
      [...document.querySelectorAll('.chart')].map((el) => ({
        id: el.id,
        svg: el.querySelector('svg.marks') !== null,
        marks: el.querySelectorAll('g[class*="role-mark"] > path, g[class*="role-mark"] > g > path, g[class*="role-mark"] > line, g[class*="role-mark"] > text').length,
      }))`);
    expect(charts.map((c) => c.id).sort()).toEqual(chartNames.map((n) => `chart-${n}`).sort());
    expect(chartNames.length).toBe(4);
    for (const c of charts) {
      expect(c.svg, c.id).toBe(true);
      expect(c.marks, c.id).toBeGreaterThan(3);
    }
    expect(page.problems).toEqual([]);
  });

  it('needs no network: every request stays in the file', () => {
    expect(page.requests.length).toBeGreaterThan(0);
    expect(page.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
  });

  it('shows values on hover', async () => {
    const at = await evaluate<{ x: number; y: number }>(`(() => {
      const el = document.querySelector('#chart-paths-tcp-crr g.mark-rect.role-mark path');
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    await page.client.Input.dispatchMouseEvent({ type: 'mouseMoved', x: at.x - 1, y: at.y - 1 });
    await page.client.Input.dispatchMouseEvent({ type: 'mouseMoved', x: at.x, y: at.y });
    await new Promise((r) => setTimeout(r, 300));
    const tooltip = await evaluate<string>("document.getElementById('vg-tooltip-element')?.textContent ?? ''");
    expect(tooltip).toMatch(/ops\/s \(median\)/);
    expect(tooltip).toMatch(/backend/);
  });

  it('toggles a backend from the legend', async () => {
    const opacities = `[...document.querySelectorAll('#chart-paths-tcp-crr g.mark-rect.role-mark path')].map((p) => p.getAttribute('opacity') ?? p.style.opacity ?? '1')`;
    const before = await evaluate<string[]>(opacities);
    const at = await evaluate<{ x: number; y: number }>(`(() => {
      const el = document.querySelector('#chart-paths-tcp-crr g.role-legend-symbol path');
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'] as const)
      await page.client.Input.dispatchMouseEvent({ type, x: at.x, y: at.y, button: 'left', clickCount: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const after = await evaluate<string[]>(opacities);
    expect(new Set(before)).toEqual(new Set(['1']));
    expect(after.some((o) => Number(o) < 0.5)).toBe(true);
    expect(after.some((o) => o === '1')).toBe(true);
    // Shift-click on the selected entry removes it from the selection: every backend shows again.
    for (const type of ['mousePressed', 'mouseReleased'] as const)
      await page.client.Input.dispatchMouseEvent({ type, x: at.x, y: at.y, button: 'left', clickCount: 1, modifiers: 8 });
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(await evaluate<string[]>(opacities))).toEqual(new Set(['1']));
    expect(page.problems).toEqual([]);
  });

  it('shows the errored and skipped cases', async () => {
    const text = await evaluate<string>('document.body.innerText');
    expect(text).toMatch(/Cases that did not complete/);
    // One line per backend: its cases' states, the reason, the fix.
    expect(text).toMatch(/iptables\t12 errored \(of 24: every case at 200 services\)\tfull sync of 200 services exceeded its 8 s budget/);
    expect(text).toMatch(/ipvs\t24 skipped \(every case\)\tunavailable: CONFIG_IP_VS is not set/);
  });
});
