import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/**
 * A local SMTP sink for development and tests: it accepts every mail (no authentication, no
 * TLS, loopback only), writes each one to `dir` as `<time>-<n>.eml` and tells `onMail` who it
 * was for. Nothing is delivered anywhere.
 */
/** The text of a raw mail with quoted-printable soft line breaks and escapes undone. */
export function plainText(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The token a mail carries on its own line (`Token: ...`), if any. */
export function tokenIn(raw: string): string | undefined {
  return /^Token: (\S+?)\r?$/m.exec(plainText(raw))?.[1];
}

export interface MailSink {
  url: string;
  dir: string;
  stop: () => Promise<void>;
}

export function startMailSink(options: {
  port: number;
  dir: string;
  onMail?: (to: string[], raw: string) => void;
}): Promise<MailSink> {
  mkdirSync(options.dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        count += 1;
        writeFileSync(join(options.dir, `${Date.now()}-${process.pid}-${count}.eml`), raw);
        options.onMail?.(
          session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw,
        );
        callback();
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () =>
      resolve({
        url: `smtp://127.0.0.1:${options.port}`,
        dir: options.dir,
        stop: () => new Promise((done) => server.close(() => done())),
      }),
    );
  });
}

if (require.main === module) {
  // `npm run mail:sink`: for development (npm run up starts it too).
  const port = Number(process.env.MAIL_SINK_PORT ?? 1025);
  const dir = process.env.MAIL_SINK_DIR ?? join(__dirname, '..', '..', '.db', 'mail');
  startMailSink({
    port,
    dir,
    onMail: (to, raw) => {
      const token = tokenIn(raw);
      console.log(`[mail] to ${to.join(', ')}${token ? ` — Token: ${token}` : ''}`);
    },
  })
    .then((sink) => console.log(`[mail] sink on ${sink.url}, mails in ${sink.dir}`))
    .catch((error: unknown) => {
      console.error(`[mail] ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
