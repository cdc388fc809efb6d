import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import * as bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes of a password; longer ones would be silently truncated. */
export const PASSWORD_MAX_BYTES = 72;

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in UTF-8 bytes of the password as it is hashed: bcrypt reads at most 72. */
export function passwordBytes(password: string): number {
  return Buffer.byteLength(normalizePassword(password), 'utf8');
}

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

  /** Hashes the NFKC form, so the same password typed as NFC or NFD is the same password. */
  hash(password: string): Promise<string> {
    return bcrypt.hash(normalizePassword(password), this.cost);
  }

  /**
   * One bcrypt comparison (against `hash`, or a dummy when there is none); a second one only for
   * a password whose NFKC form differs from what was typed, against a hash made before passwords
   * were normalised. The count depends on the password alone, never on whether there is a hash:
   * the time of a failed login does not tell whether the account exists. The form as typed is
   * tried only within bcrypt's 72 bytes: a longer one would be cut, and a 72-byte password with a
   * suffix that composes under NFKC (its NFKC form is what the length rule measures) would pass.
   */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const against = hash ?? this.dummyHash;
    const normalized = normalizePassword(password);
    let matches = await bcrypt.compare(normalized, against);
    if (
      !matches &&
      normalized !== password &&
      Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES
    ) {
      matches = await bcrypt.compare(password, against);
    }
    return matches && !!hash;
  }
}
