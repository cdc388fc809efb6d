import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { howToGetCitus } from './local-cluster';

describe('howToGetCitus', () => {
  it('should name the build script beside the checkout where there is one', () => {
    const top = mkdtempSync(join(tmpdir(), 'how-to-citus-'));
    mkdirSync(join(top, 'shared', 'citus'), { recursive: true });
    writeFileSync(join(top, 'shared', 'citus', 'install.sh'), '');
    mkdirSync(join(top, 'project'));
    const line = howToGetCitus(join(top, 'project'));
    expect(line).toContain(join('shared', 'citus', 'install.sh'));
    expect(line).not.toContain('\n');
  });

  it("should point to Citus's packages and the Compose file elsewhere", () => {
    const line = howToGetCitus(mkdtempSync(join(tmpdir(), 'how-to-citus-')));
    expect(line).toContain('docs.citusdata.com');
    expect(line).toContain('docker-compose.yml');
    expect(line).not.toContain('\n');
  });
});
