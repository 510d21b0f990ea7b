// The checker's HTML report: what it says about a known non-linearizable history, that it is
// self-contained and escaped, that it stays bounded on large histories, and that a real
// browser (Debian's headless Chromium) renders it with the counterexample highlighted.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkHistory } from '../../jepsen/check.js';
import { parseJsonl } from '../../jepsen/history.js';
import { generateHistory } from '../../jepsen/generate/history.js';
import { plantStaleRead } from '../../jepsen/generate/stale.js';
import { escapeHtml, opLabel, renderHtmlReport, selectOps, showValue, writeHtmlReport } from '../../jepsen/report/html.js';
import type { CheckResult } from '../../jepsen/types.js';

const EVIL_KEY = '<script>alert("key")</script>';
const EVIL_VALUE = '</svg><img src=x onerror=alert(1)>&amp;';

/** Key "x": 1 is written, then 2 (after 1 completed), then a read (after 2 completed) sees 1. */
const KNOWN_BAD = [
  { process: 0, type: 'invoke', f: 'write', key: 'x', value: 1 },
  { process: 0, type: 'ok', f: 'write', key: 'x', value: 1 },
  { process: 4, type: 'invoke', f: 'write', key: 'x', value: 3 },
  { process: 1, type: 'invoke', f: 'write', key: 'x', value: 2 },
  { process: 2, type: 'invoke', f: 'write', key: EVIL_KEY, value: EVIL_VALUE },
  { process: 1, type: 'ok', f: 'write', key: 'x', value: 2 },
  { process: 4, type: 'info', f: 'write', key: 'x', value: 3 },
  { process: 2, type: 'ok', f: 'write', key: EVIL_KEY, value: EVIL_VALUE },
  { process: 3, type: 'invoke', f: 'read', key: EVIL_KEY, value: null },
  { process: 0, type: 'invoke', f: 'read', key: 'x', value: null },
  { process: 3, type: 'ok', f: 'read', key: EVIL_KEY, value: EVIL_VALUE },
  { process: 0, type: 'ok', f: 'read', key: 'x', value: 1 },
]
  .map((e) => JSON.stringify(e))
  .join('\n');

function knownBad(): CheckResult {
  return checkHistory(parseJsonl(KNOWN_BAD), 'kv', { maxSteps: 1_000_000 });
}

/** The class attribute of the drawn bar of an operation, or null. */
function barClass(html: string, anchor: string, id: number): string | null {
  const m = new RegExp(`<g class="([^"]*)" id="${anchor}-op${id}"`).exec(html);
  return m === null ? null : m[1]!;
}

describe('renderHtmlReport', () => {
  it('shows the verdict, the failing key first, and the counterexample ops highlighted with their values', () => {
    const r = knownBad();
    expect(r.valid).toBe(false);
    const bad = r.partitions.find((p) => p.valid === false)!;
    expect(bad.key).toBe('x');
    const cx = bad.counterexample ?? [];
    expect(cx.length).toBeGreaterThanOrEqual(3);
    const html = renderHtmlReport(r);
    expect(html).toContain('<h1 id="verdict" data-valid="false">NOT linearizable</h1>');
    // The failing partition is drawn first (anchor p0), the passing one after it.
    expect(html).toMatch(/<section class="partition v-false" id="p0" data-valid="false">\s*<h2>[^]*?key &quot;x&quot;<\/h2>/);
    expect(html).toContain('id="p1" data-valid="true"');
    for (const id of cx) {
      expect(barClass(html, 'p0', id)).toMatch(/^op cx/);
      expect(html).toContain(`<a href="#p0-op${id}">${id}</a>`);
    }
    // Values read and written are on the bars: w 1, w 2 and the stale r 1.
    expect(html).toContain('>w 1</text>');
    expect(html).toContain('>w 2</text>');
    expect(html).toContain('>r 1</text>');
    // The info write is drawn open-ended and is not part of the counterexample.
    const info = r.operations.find((o) => o.status === 'info')!;
    expect(barClass(html, 'p0', info.id)).toMatch(/\binfo\b/);
    expect(cx).not.toContain(info.id);
    // The explanation of the checker is shown.
    expect(html).toContain('<pre class="explanation">');
  });

  it('escapes every text and is self-contained (nothing fetched)', () => {
    const html = renderHtmlReport(knownBad(), { title: 'run <7> & "friends"' });
    expect(html).not.toContain(EVIL_KEY);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror=alert(1)>');
    expect(html).toContain('&lt;script&gt;alert(&quot;key&quot;)&lt;/script&gt;');
    expect(html).toContain('run &lt;7&gt; &amp; &quot;friends&quot;');
    expect(html).not.toMatch(/https?:\/\//);
    // No tag loads anything (escaped text may say "src=", but has no tag around it).
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|href)="?[a-z]+:|<link|<img|<iframe|@import|url\(/i);
    // Exactly one script and one style element: ours.
    expect(html.match(/<script>/g)?.length).toBe(1);
    expect(html.match(/<style>/g)?.length).toBe(1);
  });

  it('reports a linearizable history in green with no counterexample', () => {
    const h = generateHistory({ seed: 4, ops: 200, processes: 5, keys: 3, infoRate: 0.1 });
    const r = checkHistory(h.events, 'kv', { maxSteps: 1_000_000 });
    expect(r.valid).toBe(true);
    const html = renderHtmlReport(r);
    expect(html).toContain('<header class="report v-true">');
    expect(html).not.toMatch(/<g class="op cx[^"]*" id=/);
    expect(html).not.toContain('<div class="cx-box">');
    const linearized = r.partitions.reduce((n, p) => n + p.linearized.length, 0);
    expect(html.match(/<g class="op lin[^"]*" id=/g)?.length).toBe(linearized);
    // Whatever the search left out of a valid linearization is an info op it did not need.
    const rest = html.match(/<g class="op rest[^"]*" id=/g) ?? [];
    expect(rest.length).toBe(r.operations.length - linearized);
    expect(rest.every((c) => c.includes(' info"'))).toBe(true);
  });

  it('renders an empty history, and labels and values short and safe', () => {
    for (const model of ['kv', 'register'] as const) {
      const html = renderHtmlReport(checkHistory([], model));
      expect(html).toContain('<h1 id="verdict" data-valid="true">Linearizable</h1>');
      expect(html).toContain(`model ${model} · 0 operations`);
    }
    const long = 'x'.repeat(500);
    expect(showValue(long).length).toBe(60);
    expect(showValue(long).endsWith('…')).toBe(true);
    expect(showValue(undefined)).toBe('undefined');
    expect(showValue({ a: [1, null] })).toBe('{"a":[1,null]}');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const base = { id: 0, process: 1, key: 'k', output: null, status: 'ok', call: 0, ret: 1, line: 1 } as const;
    expect(opLabel({ ...base, f: 'write', input: 3 })).toBe('w 3');
    expect(opLabel({ ...base, f: 'read', input: null, output: 3 })).toBe('r 3');
    expect(opLabel({ ...base, f: 'read', input: null, output: null })).toBe('r ∅');
    expect(opLabel({ ...base, f: 'read', input: null, status: 'info', ret: Infinity })).toBe('r ?');
    expect(opLabel({ ...base, f: 'cas', input: [1, 2] })).toBe('cas 1→2');
    expect(opLabel({ ...base, f: 'delete', input: null })).toBe('del');
    expect(opLabel({ ...base, f: 'append', input: 5, output: [1, 5] })).toBe('append 5 → [1,5]');
  });

  it('draws the time axis to scale when asked and the events have times, else event positions', () => {
    const h = plantStaleRead(generateHistory({ seed: 12, ops: 300, processes: 6, register: true, mix: { read: 0.5, write: 0.5 }, infoRate: 0.1 }))!;
    const r = checkHistory(h.events, 'register', { maxSteps: 1_000_000 });
    expect(r.valid).toBe(false);
    const timed = renderHtmlReport(r, { axis: 'time' });
    expect(timed).toContain("x axis: the events&#39; time field, to scale");
    expect(timed).toMatch(/<text class="tick-label"[^>]*>\+\d/);
    for (const id of r.partitions[0]!.counterexample!) expect(barClass(timed, 'p0', id)).toMatch(/^op cx/);
    // To scale: a bar's width is proportional to its operation's duration.
    const op = r.operations.find((o) => o.status === 'ok' && o.retTime! - o.callTime! > 0)!;
    const other = r.operations.find((o) => o.status === 'ok' && o.id !== op.id && o.retTime! - o.callTime! > 0)!;
    const width = (id: number): number => Number(new RegExp(`id="p0-op${id}"[^>]*><title>[^<]*</title><svg x="[^"]*" y="[^"]*" width="([^"]*)"`).exec(timed)![1]);
    const ratio = (width(op.id) + 2) / (width(other.id) + 2);
    expect(ratio).toBeCloseTo((op.retTime! - op.callTime!) / (other.retTime! - other.callTime!), 1);
    // The known-bad history has no times: position axis, whatever was asked.
    expect(renderHtmlReport(knownBad(), { axis: 'time' })).toContain('x axis: event positions');
    expect(renderHtmlReport(r)).toContain('x axis: event positions');
  });

  it('reports an unknown verdict as such', () => {
    // The shape the checker gives on a timeout (its search budget is its own business, so
    // the verdict is set here): a partial prefix, no counterexample.
    const h = generateHistory({ seed: 5, ops: 400, processes: 12, register: true, mix: { read: 0.4, write: 0.3, cas: 0.3 }, infoRate: 0.2 });
    const real = checkHistory(h.events, 'cas-register', { maxSteps: 1_000_000 });
    const part = real.partitions[0]!;
    const r: CheckResult = {
      ...real,
      valid: 'unknown',
      explanation: 'unknown: the search ran out of time before deciding the register',
      partitions: [{ key: part.key, valid: 'unknown', ops: part.ops, linearized: part.linearized.slice(0, 100), method: 'search' }],
    };
    const html = renderHtmlReport(r, { maxOpsPerPartition: 200 });
    // Drawn around the first operations the search could not place.
    expect(html).toContain('the first operations the search could not place');
    expect(html).toContain('>search stopped here</text>');
    expect(html.match(/<g class="op rest[^"]*" id=/g)?.length ?? 0).toBeGreaterThan(50);
    expect(html).toContain('<h1 id="verdict" data-valid="unknown">Unknown (the search ran out of time)</h1>');
    expect(html).toContain('data-valid="unknown"');
  });

  it('caps the drawn ops of a large partition, keeping every counterexample op and saying so', () => {
    const h = plantStaleRead(generateHistory({ seed: 6, ops: 5000, processes: 16, register: true, mix: { read: 0.5, write: 0.5 }, infoRate: 0.2 }))!;
    const r = checkHistory(h.events, 'register', { maxSteps: 5_000_000 });
    expect(r.valid).toBe(false);
    const cx = r.partitions[0]!.counterexample!;
    const html = renderHtmlReport(r, { maxOpsPerPartition: 300 });
    expect(html.match(/<g class="op [^"]*" id="p0-op/g)?.length).toBe(300);
    for (const id of cx) expect(barClass(html, 'p0', id)).toMatch(/^op cx/);
    expect(html).toContain(`Showing 300 of ${r.operations.length} operations: all counterexample operations`);
    expect(html.length).toBeLessThan(400_000);
  });

  it('stays bounded on a 100-key, 10,000-op history: a few partitions drawn, all listed', () => {
    const h = generateHistory({ seed: 8, ops: 10_000, processes: 32, keys: 100, infoRate: 0.05 });
    const s = plantStaleRead(h)!;
    const r = checkHistory(s.events, 'kv', { maxSteps: 5_000_000 });
    expect(r.valid).toBe(false);
    const html = renderHtmlReport(r, { maxPartitionsRendered: 5, maxOpsPerPartition: 400 });
    expect(html.match(/<section class="partition /g)?.length).toBe(5);
    expect(html).toMatch(/<section class="partition v-false" id="p0"/);
    expect(html).toContain('Time lines are drawn for the first 5; the others are listed only.');
    expect(html.match(/<tr><td>/g)?.length).toBe(r.partitions.length);
    expect(html.length).toBeLessThan(1_500_000);
  });

  it('always draws every counterexample op, within the caps, for any generated history', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (seed, processes, keys, cap, maxParts, stale) => {
          const g = generateHistory({ seed, ops: 120, processes, keys, infoRate: 0.15 });
          const h = stale ? (plantStaleRead(g, { position: 'random', seed }) ?? g) : g;
          const r = checkHistory(h.events, 'kv', { maxSteps: 2_000_000 });
          expect(r.valid).not.toBe('unknown');
          const html = renderHtmlReport(r, { maxOpsPerPartition: cap, maxPartitionsRendered: maxParts });
          const drawn = Math.min(maxParts, r.partitions.length);
          expect(html.match(/<section class="partition /g)?.length ?? 0).toBe(drawn);
          for (let i = 0; i < drawn; i++) {
            const bars = html.match(new RegExp(`<g class="op [^"]*" id="p${i}-op`, 'g'))?.length ?? 0;
            expect(bars).toBeGreaterThan(0);
            // The cap yields only to the counterexample, which is never cut.
            expect(bars).toBeLessThanOrEqual(Math.max(cap, ...r.partitions.map((p) => p.counterexample?.length ?? 0)));
          }
          if (r.valid === false) {
            const cx = r.partitions.find((p) => p.valid === false)!.counterexample!;
            expect(cx.length).toBeGreaterThan(0);
            for (const id of cx) expect(barClass(html, 'p0', id)).toMatch(/^op cx/);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('selectOps keeps the focus and fills up to the cap with the nearest ops in time', () => {
    const r = knownBad();
    const x = r.partitions.find((p) => p.key === 'x')!;
    const ops = r.operations.filter((o) => o.key === 'x');
    const two = selectOps(ops, x, 2);
    // The cap yields to the counterexample, which is never cut.
    expect(two.map((o) => o.id).sort()).toEqual([...(x.counterexample ?? [])].sort());
    expect(selectOps(ops, x, 100).length).toBe(ops.length);
    expect(() => renderHtmlReport(r, { maxOpsPerPartition: 0 })).toThrow(/maxOpsPerPartition must be >= 1/);
  });
});

// ---- In a real browser ------------------------------------------------------------------

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';
const BROWSER_TIMEOUT_MS = 45_000;
if (!haveChromium && !inCi) {
  process.stderr.write(`\n*** report.test.ts: ${CHROMIUM} is missing, so the browser render tests are SKIPPED here (apt-get install -y chromium). With CI=true they fail instead. ***\n\n`);
}

interface BrowserRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs headless Chromium once, in a fresh profile, killed (its whole process group) on timeout. */
function runChromium(args: readonly string[]): Promise<BrowserRun> {
  const profile = mkdtempSync(join(tmpdir(), 'conclave-chromium-'));
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    // detached: Chromium starts helper processes; a process group lets us kill them all by pid.
    const child = spawn(CHROMIUM, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      reject(new Error(`chromium did not finish within ${BROWSER_TIMEOUT_MS} ms (killed); stderr:\n${stderr.slice(-2000)}`));
    }, BROWSER_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

function requireChromium(): void {
  if (!haveChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does it) to run the report render test`);
}

describe('the report in headless Chromium', () => {
  const skip = !haveChromium && !inCi;

  it.skipIf(skip)('renders the DOM with the verdict and the highlighted counterexample ops', async () => {
    requireChromium();
    const dir = mkdtempSync(join(tmpdir(), 'conclave-report-'));
    try {
      const r = knownBad();
      const cx = r.partitions.find((p) => p.valid === false)!.counterexample!;
      const file = join(dir, 'report.html');
      writeHtmlReport(r, file);
      const run = await runChromium(['--dump-dom', pathToFileURL(file).href]);
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      const dom = run.stdout;
      expect(dom).toContain('NOT linearizable</h1>');
      for (const id of cx) expect(barClass(dom, 'p0', id)).toMatch(/^op cx/);
      // The page's script ran: tooltips moved from <title> into data-tip.
      expect(dom).toMatch(/<g class="op cx[^"]*" id="p0-op\d+" data-op="\d+" data-tip="[^"]*COUNTEREXAMPLE/);
      expect(dom).not.toMatch(/<g class="op[^>]*><title>/);
      // The escaped key stayed text: no element was injected.
      expect(dom).not.toContain('<img');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skip)('takes a non-empty 1400x900 screenshot', async () => {
    requireChromium();
    const dir = mkdtempSync(join(tmpdir(), 'conclave-report-'));
    try {
      const file = join(dir, 'report.html');
      const png = join(dir, 'report.png');
      writeHtmlReport(knownBad(), file);
      const run = await runChromium([`--screenshot=${png}`, '--window-size=1400,900', pathToFileURL(file).href]);
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      expect(existsSync(png)).toBe(true);
      const bytes = readFileSync(png);
      expect(statSync(png).size).toBeGreaterThan(10_000);
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      // IHDR: width and height, big-endian, at bytes 16..24.
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([1400, 900]);
      if (process.env['REPORT_PNG_OUT'] !== undefined) writeFileSync(process.env['REPORT_PNG_OUT'], bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
