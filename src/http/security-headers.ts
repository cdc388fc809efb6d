import { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { HelmetOptions } from 'helmet';

/**
 * Helmet's headers, computed once. With these options every header helmet sets is the same on
 * every response (no per-request nonces), so the service sends a fixed set instead of running
 * helmet's middleware chain per request.
 */
export function securityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  // Helmet 8 throws on a bad option instead of passing it on, so `next` has nothing to do.
  helmet(options)(
    { headers: {}, method: 'GET', url: '/' } as IncomingMessage,
    response as unknown as ServerResponse,
    () => undefined,
  );
  return Object.freeze(headers);
}
