import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes of a password; longer ones would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;

/** The bcrypt work factor, given by whoever imports CredentialsModule. */
export const BCRYPT_COST = Symbol('BCRYPT_COST');

/** Hashes and checks passwords at the configured bcrypt cost. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Checked against when there is no account, so "no such email" costs what a wrong password does. */
  private dummyHash = '';

  constructor(@Inject(BCRYPT_COST) private readonly cost: number) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  /** One bcrypt comparison either way: against `hash`, or against a dummy when there is none. */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(password, hash ?? this.dummyHash);
    return matches && hash !== null && hash !== undefined;
  }
}
