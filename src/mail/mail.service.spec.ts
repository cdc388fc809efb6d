import { createServer, Server } from 'node:net';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { MailService } from './mail.service';

const MAIL = { to: 'alice@example.com', subject: 'Confirm your email', text: 'token' };

describe(MailService.name, () => {
  let smtp: Server;
  let port: number;

  // An SMTP server that hangs up at once: every send fails.
  beforeAll(async () => {
    smtp = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const address = smtp.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(() => new Promise((resolve) => smtp.close(resolve)));

  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const service = (smtpUrl: string | undefined, metrics: { mailFailed: jest.Mock }) =>
    new MailService(
      loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: 'postgres://u@localhost/db',
        ...(smtpUrl ? { SMTP_URL: smtpUrl } : {}),
      }),
      metrics as unknown as MetricsService,
    );

  it('should count a send the SMTP server did not take in mail_failures_total', async () => {
    const metrics = { mailFailed: jest.fn() };
    const mail = service(`smtp://127.0.0.1:${port}`, metrics);
    try {
      await expect(mail.send(MAIL)).resolves.toBe(false);
    } finally {
      mail.onModuleDestroy();
    }
    expect(metrics.mailFailed).toHaveBeenCalledTimes(1);
  });

  it('should not count a mail left unsent for want of SMTP_URL (development only)', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const metrics = { mailFailed: jest.fn() };
    await expect(service(undefined, metrics).send(MAIL)).resolves.toBe(false);
    expect(metrics.mailFailed).not.toHaveBeenCalled();
  });
});
