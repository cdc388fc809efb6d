import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { HelmetOptions } from 'helmet';
import { securityHeaders } from './security-headers';

describe(securityHeaders.name, () => {
  const options: HelmetOptions = {
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
    },
  };

  it('should be exactly the headers helmet sets on a real response', () => {
    const request = new IncomingMessage(new Socket());
    const response = new ServerResponse(request);
    response.setHeader('X-Powered-By', 'something');
    helmet(options)(request, response, () => undefined);
    const expected = Object.fromEntries(
      Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]),
    );
    expect(securityHeaders(options)).toEqual(expected);
    expect(expected['content-security-policy']).toContain("img-src 'self' data:");
    expect(expected).not.toHaveProperty('x-powered-by');
  });

  it('should refuse options helmet refuses', () => {
    expect(() =>
      securityHeaders({
        contentSecurityPolicy: { useDefaults: false, directives: { 'img-src': ["'self'"] } },
      }),
    ).toThrow(/default-src/);
  });
});
