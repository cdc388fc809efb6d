import { Principal } from '../access/principal';

interface Entry {
  principal: Principal;
  expiresAt: number;
}

/**
 * Access tokens this process has verified, kept until they expire: a client sends the same token
 * on every request, and its signature and claims cannot have changed, so a repeat skips the
 * verification. Keyed by the whole token (signature included); bounded, oldest out first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 10_000) {}

  get(token: string, now = Date.now()): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  remember(token: string, principal: Principal, expiresAt: number): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { principal, expiresAt });
  }

  get size(): number {
    return this.entries.size;
  }
}
