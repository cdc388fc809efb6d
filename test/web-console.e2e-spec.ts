import { readFileSync, writeFileSync } from 'node:fs';
import { API_TYPE_FILES, renderApiTypes } from '../tools/web/api-types';
import { Http, useTestApp } from './harness/e2e';

/** The asset a built page loads (`<script type="module" src="/assets/...">`). */
function scriptOf(html: string): string {
  const src = /<script type="module"[^>]* src="([^"]+)"/.exec(html)?.[1];
  if (!src) throw new Error(`no module script in:\n${html}`);
  return src;
}

describe('Web console serving (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  it.each([
    ['/', 'Notes'],
    ['/admin', 'operator console'],
    ['/admin/', 'operator console'],
  ])('should serve the page at %s under the same CSP as the API', async (path, title) => {
    const response = await http().get(path).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(/<title>(.*)<\/title>/.exec(response.text)?.[1]).toContain(title);
    const csp = response.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    // Nothing inline and nothing from elsewhere: the CSP would refuse both.
    expect(response.text).not.toMatch(/<script(?![^>]*\bsrc="\/assets\/)[^>]*>/);
    expect(response.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('should serve hashed assets for a year, precompressed when the browser accepts it', async () => {
    const script = scriptOf((await http().get('/').expect(200)).text);
    const plain = await http().get(script).set('Accept-Encoding', 'identity').expect(200);
    expect(plain.headers['content-type']).toMatch(/javascript/);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const gzip = await http().get(script).set('Accept-Encoding', 'gzip').expect(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.text).toBe(plain.text);
  });

  it('should ship the tenant pages in less than 100 kB of gzipped JavaScript', async () => {
    const html = (await http().get('/').expect(200)).text;
    const scripts = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const script of scripts) {
      const response = await http().get(script).set('Accept-Encoding', 'gzip').expect(200);
      expect(response.headers['content-encoding']).toBe('gzip');
      // What travels: the precompressed file's length, not the body supertest inflated.
      total += Number(response.headers['content-length']);
    }
    process.stdout.write(
      `[web] tenant pages: ${scripts.length} script(s), ${total} bytes gzipped\n`,
    );
    expect(total).toBeLessThan(100 * 1024);
  });

  it.each(['/api/v1/nope', '/nope', '/admin/nope', '/assets/nope.js', '/index.html.gz'])(
    'should still answer %s with the JSON 404',
    async (path) => {
      const response = await http().get(path).expect(404);
      expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    },
  );

  it('should leave the API documents free of the console routes', async () => {
    const doc = await http().get('/docs-json').expect(200);
    expect(
      Object.keys(doc.body.paths).every(
        (path) => path.startsWith('/api/v1/') || path.startsWith('/health'),
      ),
    ).toBe(true);
  });

  it.each(Object.entries(API_TYPE_FILES))(
    'should have %s API types that match the OpenAPI document the app builds',
    async (_name, { document, file }) => {
      const generated = renderApiTypes((await http().get(document).expect(200)).body);
      if (process.env.UPDATE_API_TYPES === '1') writeFileSync(file, generated);
      // Out of date: run this spec with UPDATE_API_TYPES=1 and commit the result.
      expect(readFileSync(file, 'utf8')).toBe(generated);
    },
  );
});
