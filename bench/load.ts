import autocannon from 'autocannon';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Sample {
  /** Completed requests (or transactions) per second over the whole window. */
  rps: number;
  p50: number;
  p99: number;
  /** Answers outside 2xx, plus connection errors and timeouts: the bench wants zero. */
  non2xx: number;
  /** What the failures were: counts by HTTP status, and of connection errors and timeouts. */
  failures?: Record<string, number>;
  total: number;
}

/** An autocannon request carrying `spec` (JSON bodies get their content type). */
export function withSpec(request: autocannon.Request, spec: RequestSpec): autocannon.Request {
  return {
    ...request,
    method: spec.method,
    path: spec.path,
    headers: {
      ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...spec.headers,
    },
    body: spec.body,
  };
}

/**
 * Closed-loop HTTP load with autocannon: `connections` keep-alive connections, each sending its
 * next request when the previous one is answered; every request is built by `next()`.
 */
export async function httpLoad(
  baseUrl: string,
  options: { connections: number; seconds: number },
  next: (client: Record<string, unknown>) => RequestSpec,
): Promise<Sample> {
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    // autocannon gives each connection a context object of its own.
    requests: [
      {
        setupRequest: (request, context) =>
          withSpec(request, next(context as Record<string, unknown>)),
      },
    ],
  });
  const total = result.requests.total;
  const failures: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
    if (!status.startsWith('2') && stats.count) failures[status] = stats.count;
  }
  if (result.errors) failures.errors = result.errors;
  if (result.timeouts) failures.timeouts = result.timeouts;
  return {
    rps: total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
    failures,
    total,
  };
}

export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
