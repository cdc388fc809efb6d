import { Page } from 'playwright-core';
import { useBrowserApp } from '../harness/browser';
import {
  bearer,
  citusMode,
  describeBrowser,
  describeCitus,
  OPERATOR,
  operatorToken,
  register,
  unique,
} from '../harness/e2e';
import { holdingClusterShape, SHAPE_TEST_TIMEOUT } from '../harness/cluster-shape';

export async function operatorLogIn(page: Page): Promise<void> {
  await page.goto('/admin');
  await page.getByLabel('Email').fill(OPERATOR.email);
  await page.getByLabel('Password').fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Cluster', level: 1 }).waitFor();
}

describeBrowser('Operator console in Chromium [browser] (e2e)', () => {
  const ctx = useBrowserApp();

  it('should refuse a wrong operator password with a clear message', async () => {
    const page = await ctx.newPage();
    await page.goto('/admin');
    await page.getByLabel('Email').fill(OPERATOR.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong email or password.');
  });

  it('should show every node with its health, and say when cluster features need Citus', async () => {
    const page = await ctx.newPage();
    await operatorLogIn(page);
    const nodes = page.getByRole('region', { name: 'Nodes' });
    await nodes.getByRole('row').nth(1).waitFor();
    const rows = await nodes.getByRole('row').allTextContents();
    if (citusMode) {
      expect(rows.filter((row) => row.includes('worker')).length).toBeGreaterThanOrEqual(1);
      expect(rows.slice(1).every((row) => row.includes('healthy'))).toBe(true);
      await page.getByRole('img', { name: /Cluster map/ }).waitFor();
      await expect(page.getByText('Cluster features need Citus').count()).resolves.toBe(0);
    } else {
      expect(rows.slice(1)).toEqual([expect.stringContaining('standalone')]);
      await page.getByText('Cluster features need Citus').waitFor();
      await expect(page.getByRole('img', { name: /Cluster map/ }).count()).resolves.toBe(0);
      await expect(page.getByRole('button', { name: 'Rebalance shards' }).count()).resolves.toBe(0);
    }
    await page.getByRole('heading', { name: 'Live activity' }).waitFor();
    await page.getByRole('heading', { name: 'Tenants and their load' }).waitFor();
  });

  describeCitus('on Citus [citus]', () => {
    it(
      "should find a tenant's shard on the map and isolate it",
      holdingClusterShape('change', async () => {
        const tenantName = unique('Mapped Org');
        const owner = await register(ctx.http, { tenantName });
        await ctx
          .http()
          .post('/api/v1/notes')
          .set(...bearer(owner.token))
          .send({ content: 'something to copy' })
          .expect(201);
        const token = await operatorToken(ctx.http);
        const before = await ctx
          .http()
          .get(`/api/v1/admin/citus/tenants/${owner.tenant.id}`)
          .set(...bearer(token))
          .expect(200);
        const shardId = before.body.tenant.shardId as string;

        const page = await ctx.newPage();
        await operatorLogIn(page);
        await page.getByLabel('Find a tenant by name').fill(tenantName);
        const placement = page.getByRole('region', { name: 'Tenant placement' });
        await expect(placement.textContent()).resolves.toContain(`is on shard ${shardId}`);
        const marked = page.locator('svg g[data-match="true"]');
        await expect(marked.getAttribute('data-shard')).resolves.toBe(shardId);
        await expect(marked.getAttribute('data-isolated')).resolves.toBeNull();
        await expect(marked.locator('title').textContent()).resolves.toContain(tenantName);

        await placement.getByRole('button', { name: `Isolate ${tenantName}` }).click();
        await placement.getByText(`${tenantName} now has shard`).waitFor({ timeout: 60_000 });
        const after = await ctx
          .http()
          .get(`/api/v1/admin/citus/tenants/${owner.tenant.id}`)
          .set(...bearer(token))
          .expect(200);
        expect(after.body.tenant.isolated).toBe(true);
        const isolated = page.locator(`svg g[data-shard="${after.body.tenant.shardId}"]`);
        await isolated.waitFor();
        await expect(isolated.getAttribute('data-isolated')).resolves.toBe('true');
        await expect(isolated.getAttribute('data-match')).resolves.toBe('true');
        await expect(isolated.textContent()).resolves.toContain(`isolated: ${tenantName}`);
        await expect(placement.textContent()).resolves.toContain('isolated: the shard holds this');
      }),
      SHAPE_TEST_TIMEOUT,
    );
  });
});

describeBrowser('Operator console: tenants over their share [browser] (e2e)', () => {
  const ctx = useBrowserApp({ TENANT_RATE_LIMIT_PER_SECOND: '3', TENANT_CONCURRENCY: '0' });

  it('should list a tenant refused for its share, by name and limit', async () => {
    const page = await ctx.newPage();
    await operatorLogIn(page);
    const section = page.getByRole('region', { name: 'Tenants over their share' });
    await section.getByText('No tenant went over its share').waitFor();

    const noisy = await register(ctx.http, { tenantName: unique('Noisy Org') });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        ctx
          .http()
          .get('/api/v1/notes')
          .set(...bearer(noisy.token)),
      ),
    );
    expect(answers.some((answer) => answer.status === 429)).toBe(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Cluster', level: 1 }).waitFor();
    const row = page
      .getByRole('region', { name: 'Tenants over their share' })
      .getByRole('row', { name: new RegExp(noisy.tenant.name) });
    await expect(row.textContent()).resolves.toContain('requests a second');
  });
});
