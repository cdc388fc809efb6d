import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EMAIL_SHAPE, normalizeEmail } from '../credentials/email';
import { operatorPasswordProblem } from '../credentials/password-policy';
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
  // Checked before anything connects; the same rules as ADMIN_PASSWORD (config/app-config.ts).
  const problem = operatorPasswordProblem(password, email, 'the password');
  if (problem) throw new Error(problem);
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
