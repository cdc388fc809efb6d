import { chooseTestDatabase, DEFAULT_CITUS_IMAGE, dockerEngineAnswers } from './database-choice';

describe('chooseTestDatabase', () => {
  it('should prefer an explicit TEST_DATABASE_URL over Docker and local binaries', () => {
    const choice = chooseTestDatabase({ TEST_DATABASE_URL: 'postgres://x@h/db' }, true);
    expect(choice).toEqual({ kind: 'url', url: 'postgres://x@h/db', reason: expect.any(String) });
  });

  it('should use testcontainers with the Citus image when a Docker engine answers', () => {
    expect(chooseTestDatabase({}, true)).toMatchObject({
      kind: 'testcontainers',
      image: DEFAULT_CITUS_IMAGE,
    });
  });

  it('should honour TEST_CITUS_IMAGE for the container', () => {
    expect(chooseTestDatabase({ TEST_CITUS_IMAGE: 'citusdata/citus:12.1' }, true)).toMatchObject({
      image: 'citusdata/citus:12.1',
    });
  });

  it('should fall back to local binaries without URL or Docker', () => {
    expect(chooseTestDatabase({}, false).kind).toBe('local');
  });

  it('should let TEST_DB=local win over a reachable Docker engine', () => {
    expect(chooseTestDatabase({ TEST_DB: 'local' }, true).kind).toBe('local');
  });

  it('should refuse TEST_DB=testcontainers when no engine answers', () => {
    expect(() => chooseTestDatabase({ TEST_DB: 'testcontainers' }, false)).toThrow(/Docker/);
  });

  it('should refuse TEST_DB=url without a URL and an unknown TEST_DB value', () => {
    expect(() => chooseTestDatabase({ TEST_DB: 'url' }, false)).toThrow(/TEST_DATABASE_URL/);
    expect(() => chooseTestDatabase({ TEST_DB: 'cloud' }, false)).toThrow(/TEST_DB must be/);
  });
});

describe('dockerEngineAnswers', () => {
  it('should answer false when the socket does not exist', async () => {
    await expect(
      dockerEngineAnswers({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
    ).resolves.toBe(false);
  });

  it('should answer false when nothing listens on a tcp DOCKER_HOST', async () => {
    await expect(dockerEngineAnswers({ DOCKER_HOST: 'tcp://127.0.0.1:1' }, 500)).resolves.toBe(
      false,
    );
  });
});
