import { buildDataSourceOptions, withSessionSettings } from './data-source-options';

describe(withSessionSettings.name, () => {
  it('should add settings to the startup options and keep those already in the URL', () => {
    const url = withSessionSettings(
      'postgresql://app:p%40ss@db.internal:5432/notes?options=-c%20citus.multi_task_query_log_level%3Derror&sslmode=require',
      { 'citus.node_connection_timeout': '5000' },
    );
    const parsed = new URL(url);
    expect(parsed.searchParams.get('options')).toBe(
      '-c citus.multi_task_query_log_level=error -c citus.node_connection_timeout=5000',
    );
    expect(parsed.searchParams.get('sslmode')).toBe('require');
    expect(parsed.password).toBe('p%40ss');
    expect(parsed.pathname).toBe('/notes');
  });

  it('should create the options parameter when there is none', () => {
    const url = withSessionSettings('postgres://u@localhost/db', { 'a.b': '1', 'c.d': '2' });
    expect(new URL(url).searchParams.get('options')).toBe('-c a.b=1 -c c.d=2');
  });
});

describe(buildDataSourceOptions.name, () => {
  it('should bound how long the coordinator tries to reach a worker by the connect timeout', () => {
    const options = buildDataSourceOptions({
      url: 'postgres://u@localhost/db',
      connectTimeoutMs: 3000,
    });
    const url = new URL((options as { url: string }).url);
    expect(url.searchParams.get('options')).toBe('-c citus.node_connection_timeout=3000');
    expect(
      (options as { extra: { connectionTimeoutMillis: number } }).extra.connectionTimeoutMillis,
    ).toBe(3000);
  });
});
