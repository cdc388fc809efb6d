import AxeBuilder from '@axe-core/playwright';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { chromiumBin, createTestApp, groundTruthPool, Http } from './e2e';

/**
 * Flags Debian's Chromium needs here: no sandbox as root, no GPU, and nothing that phones home
 * (the machine's closed network refuses those connections, many at a time). Playwright adds
 * --headless and starts every launch with a fresh, empty profile (--user-data-dir).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserContextUnderTest {
  /** http://127.0.0.1:<port>: the app listening on a real port, for the browser. */
  base: string;
  http: () => Http;
  app: NestFastifyApplication;
  /** Superuser pool for ground truth, bypassing the API. */
  db: Pool;
  browser: Browser;
  /** A new window with its own storage (a different person, or the same one on another day). */
  newPage: () => Promise<Page>;
}

/**
 * The app (configured as in production, serving the built console) on a free port, and Debian's
 * Chromium through playwright-core, for the enclosing describe block.
 */
export function useBrowserApp(env: Record<string, string> = {}): BrowserContextUnderTest {
  // A browser on a shared 2-core machine (beside the other e2e worker) is slow to axe-check
  // several pages: more room than the default minute, per test of the file.
  jest.setTimeout(180_000);
  const context = {} as BrowserContextUnderTest;
  const contexts: BrowserContext[] = [];
  // The pages opened by the running test, each with what the API answered it.
  let pages: Array<{ page: Page; trail: string[] }> = [];
  beforeAll(async () => {
    const { app, http } = await createTestApp(env);
    const fastify = app as NestFastifyApplication;
    await fastify.listen(0, '127.0.0.1');
    const address = fastify.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('app is not listening');
    const browser = await chromium.launch({
      executablePath: chromiumBin,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    Object.assign(context, {
      base: `http://127.0.0.1:${address.port}`,
      http,
      app: fastify,
      db: groundTruthPool(),
      browser,
      newPage: async () => {
        const browserContext = await browser.newContext({
          baseURL: `http://127.0.0.1:${address.port}`,
        });
        contexts.push(browserContext);
        const page = await browserContext.newPage();
        page.setDefaultTimeout(15_000);
        const trail: string[] = [];
        pages.push({ page, trail });
        page.on('response', (response) => {
          const url = new URL(response.url());
          if (!url.pathname.startsWith('/api/')) return;
          const timing = response.request().timing();
          const line = `${response.request().method()} ${url.pathname} -> ${response.status()} after ${Math.round(timing.responseStart)} ms`;
          if (response.status() < 400) trail.push(line);
          else {
            void response
              .json()
              .then((body: { code?: string; message?: string }) =>
                trail.push(`${line} ${body.code ?? ''}: ${body.message ?? ''}`),
              )
              .catch(() => trail.push(line));
          }
        });
        // A script the CSP refused, or any other error, fails the test that caused it.
        page.on('console', (message) => {
          if (message.type() === 'error') pageErrors.push(message.text());
        });
        page.on('pageerror', (error) => pageErrors.push(error.message));
        return page;
      },
    });
  });
  const pageErrors: string[] = [];
  afterEach(async () => {
    const opened = pages;
    pages = [];
    if (globalThis.__E2E_TEST_FAILED__) await printPages(opened);
    const errors = pageErrors.splice(0);
    // Failed requests the test provoked (a 401 for a wrong password...) log as console errors.
    const unexpected = errors.filter(
      (text) =>
        !/Failed to load resource: the server responded with a status of (4\d\d)/.test(text),
    );
    expect(unexpected).toEqual([]);
  });
  afterAll(async () => {
    for (const browserContext of contexts) await browserContext.close().catch(() => undefined);
    await context.browser?.close();
    await context.app?.close();
    await context.db?.end();
  });
  return context;
}

declare global {
  /** Set by test/harness/e2e-environment.cjs: the test that just ran failed. */
  var __E2E_TEST_FAILED__: boolean | undefined;
}

/** What each page of a failed test showed, and the API calls it made, for the log. */
async function printPages(pages: Array<{ page: Page; trail: string[] }>): Promise<void> {
  for (const [index, { page, trail }] of pages.entries()) {
    if (page.isClosed()) continue;
    const text = await page
      .evaluate<string>('document.body.innerText')
      .catch((error: Error) => `(unreadable: ${error.message})`);
    // Where the focus is and how much each field holds (lengths only: fields hold passwords).
    const state = await page
      .evaluate<string>(
        `(() => {
          const active = document.activeElement;
          const name = (el) => el ? el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('aria-label') ? '[' + el.getAttribute('aria-label') + ']' : '') : 'none';
          const fields = [...document.querySelectorAll('input, textarea')].map((el) => name(el) + '=' + el.value.length + ' chars');
          return 'focus on ' + name(active) + '; fields: ' + fields.join(', ');
        })()`,
      )
      .catch((error: Error) => `(unreadable: ${error.message})`);
    process.stderr.write(
      `[browser] page ${index + 1} of the failed test at ${page.url()}\n` +
        `  shows: ${text.replace(/\s+/g, ' ').slice(0, 1500)}\n` +
        `  ${state}\n` +
        `  API calls:\n${trail.map((line) => `    ${line}`).join('\n') || '    none'}\n`,
    );
  }
}

/** axe-core's findings that matter: serious and critical ones, as readable lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact}: ${violation.id} (${violation.help}) at ${violation.nodes
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

/**
 * Presses Tab until the focused element matches `accessibleName` (its label or text), as a
 * keyboard-only user would; fails when it is not reachable in `limit` presses.
 */
export async function tabTo(page: Page, accessibleName: RegExp, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    // Evaluated in the page (a string: this project's TypeScript has no DOM types).
    const name = await page.evaluate<string>(`(() => {
      const element = document.activeElement;
      if (!element) return '';
      const labelled = element.getAttribute('aria-label');
      if (labelled) return labelled;
      const label = element.id ? document.querySelector('label[for="' + element.id + '"]') : null;
      if (label) return label.textContent;
      const wrapping = element.closest('label');
      return (wrapping ?? element).textContent ?? '';
    })()`);
    if (accessibleName.test(name.trim())) return;
  }
  throw new Error(`${String(accessibleName)} is not reachable with Tab`);
}
