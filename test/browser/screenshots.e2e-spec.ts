import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Page } from 'playwright-core';
import { useBrowserApp } from '../harness/browser';
import {
  bearer,
  citusMode,
  describeBrowser,
  invite,
  OPERATOR,
  operatorToken,
  PASSWORD,
  register,
  unique,
  verifyEmail,
} from '../harness/e2e';
import { holdingClusterShape, SHAPE_TEST_TIMEOUT } from '../harness/cluster-shape';

/**
 * `npm run screenshots` (SCREENSHOTS=1) writes a picture of every page into docs/screenshots/ for
 * the README; in a plain test run the same pictures go to a temporary folder, so the script is
 * known to work.
 */
const OUT =
  process.env.SCREENSHOTS === '1'
    ? resolve(__dirname, '..', '..', 'docs', 'screenshots')
    : mkdtempSync(join(tmpdir(), 'screenshots-'));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function shoot(page: Page, name: string): Promise<void> {
  // The screenshot must not depend on where the text cursor blinks.
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  const png = readFileSync(file);
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.length).toBeGreaterThan(5_000);
}

describeBrowser('Screenshots of every page [browser] (e2e)', () => {
  const ctx = useBrowserApp();
  beforeAll(() => mkdirSync(OUT, { recursive: true }));

  it('should picture the tenant pages', async () => {
    const suffix = process.env.SCREENSHOTS === '1' ? '' : ` ${unique('x')}`;
    const owner = await register(ctx.http, {
      tenantName: `Acme Research${suffix}`,
      username: 'ada',
      email: `${unique('ada')}@example.com`,
    });
    await verifyEmail(ctx.http, owner.email);
    const member = await register(ctx.http, {
      tenantName: owner.tenant.name,
      username: 'grace',
      inviteCode: await invite(ctx.http, owner.token),
    });
    await register(ctx.http, { tenantName: `Blue Harbour${suffix}`, email: owner.email });
    const notes: [typeof owner, string, string][] = [
      [owner, 'Quarterly plan', 'Ship the web console.\nMeasure the first render.'],
      [member, 'Reading list', 'Citus: tenant isolation\nKeyset pagination'],
      [owner, 'Welcome', 'Notes are shared with everyone in Acme Research.'],
    ];
    for (const [who, title, content] of notes) {
      await ctx
        .http()
        .post('/api/v1/notes')
        .set(...bearer(who.token))
        .send({ title, content })
        .expect(201);
    }

    const page = await ctx.newPage();
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.goto('/#/login');
    await page.getByRole('heading', { name: 'Log in', level: 1 }).waitFor();
    await shoot(page, 'tenant-login');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('group', { name: /several organisations/ }).waitFor();
    await shoot(page, 'tenant-login-choice');
    await page.getByLabel(owner.tenant.name).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('article', { name: 'Welcome' }).waitFor();
    await shoot(page, 'tenant-notes');
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Create invitation code' }).click();
    await page.getByLabel('Invitation code').waitFor();
    await shoot(page, 'tenant-members');

    const visitor = await ctx.newPage();
    await visitor.setViewportSize({ width: 1100, height: 760 });
    await visitor.goto('/#/signup');
    await visitor.getByRole('heading', { name: 'Sign up', level: 1 }).waitFor();
    await shoot(visitor, 'tenant-signup');
    await visitor.goto('/#/verify');
    await visitor.getByRole('heading', { name: 'Confirm your email', level: 1 }).waitFor();
    await shoot(visitor, 'tenant-verify');
  });

  it(
    'should picture the operator console',
    holdingClusterShape('change', async () => {
      if (citusMode) {
        // One isolated tenant, so the map shows what isolation looks like.
        const big = await register(ctx.http, { tenantName: unique('Globex') });
        for (let i = 0; i < 20; i += 1) {
          await ctx
            .http()
            .post('/api/v1/notes')
            .set(...bearer(big.token))
            .send({ content: 'x'.repeat(2000) })
            .expect(201);
        }
        await ctx
          .http()
          .post(`/api/v1/admin/citus/tenants/${big.tenant.id}/isolate`)
          .set(...bearer(await operatorToken(ctx.http)))
          .send({})
          .expect(200);
      }
      const page = await ctx.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto('/admin');
      await page.getByRole('heading', { name: 'Operator login', level: 1 }).waitFor();
      await shoot(page, 'admin-login');
      await page.getByLabel('Email').fill(OPERATOR.email);
      await page.getByLabel('Password').fill(OPERATOR.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Tenants and their load' }).waitFor();
      if (citusMode) {
        await page.getByLabel('Find a tenant by name').fill('Acme Research');
        await page
          .getByRole('region', { name: 'Tenant placement' })
          .getByText('is on shard')
          .waitFor();
      }
      await shoot(page, citusMode ? 'admin-cluster' : 'admin-plain-postgresql');
    }),
    SHAPE_TEST_TIMEOUT,
  );
});
