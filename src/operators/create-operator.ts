import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { MIN_OPERATOR_PASSWORD } from '../config/app-config';
import { EMAIL_SHAPE, normalizeEmail } from '../credentials/email';
import { PASSWORD_MAX_BYTES } from '../credentials/passwords';
import { OperatorsCliModule } from './operators-cli.module';
import { OperatorsService } from './operators.service';

/**
 * Creates an operator account:
 *   OPERATOR_PASSWORD=... npm run operator:create -- ops@example.com
 *   (or pipe the password on standard input; it is never taken from the command line)
 */
async function readPassword(): Promise<string> {
  if (process.env.OPERATOR_PASSWORD) return process.env.OPERATOR_PASSWORD;
  if (process.stdin.isTTY) throw new Error('set OPERATOR_PASSWORD or pipe the password on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const email = normalizeEmail(process.argv[2] ?? '');
  if (!EMAIL_SHAPE.test(email)) {
    throw new Error('usage: create-operator <email>  (password from OPERATOR_PASSWORD or stdin)');
  }
  const password = await readPassword();
  const bytes = Buffer.byteLength(password);
  if (bytes < MIN_OPERATOR_PASSWORD || bytes > PASSWORD_MAX_BYTES) {
    throw new Error(
      `the password must be ${MIN_OPERATOR_PASSWORD} to ${PASSWORD_MAX_BYTES} bytes long`,
    );
  }
  const app = await NestFactory.createApplicationContext(OperatorsCliModule, {
    logger: ['error', 'warn'],
  });
  try {
    const operator = await app.get(OperatorsService).create(email, password);
    console.log(`created operator ${operator.id} (${operator.email})`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
