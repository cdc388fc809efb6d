import { ApiError } from './errors';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/** Refresh this long before the access token runs out, so no request is sent with a dead one. */
const EARLY_MS = 20_000;

/**
 * A session as the API defines it: a short-lived access token and a single-use refresh token,
 * replaced by each POST to the refresh route.
 *
 * Where the tokens live: the access token only in memory; the refresh token in sessionStorage,
 * so reloading the tab keeps you logged in while closing it ends the browser's hold on the
 * session. Not localStorage: every tab would share one single-use refresh token, and two tabs
 * refreshing at once would look like a replay and end the session (SESSION_REVOKED). Not a URL,
 * and never logged. Refreshes are single-flight for the same reason.
 */
export class Session {
  private access: string | undefined;
  private accessExpiresAt = 0;
  private inFlight: Promise<string | undefined> | undefined;
  /** Called when the session ends without the user asking (refresh refused). */
  onEnded: (error: ApiError) => void = () => undefined;

  constructor(
    private readonly storageKey: string,
    private readonly refreshPath: string,
  ) {}

  get refreshToken(): string | undefined {
    return sessionStorage.getItem(this.storageKey) ?? undefined;
  }

  get active(): boolean {
    return this.access !== undefined || this.refreshToken !== undefined;
  }

  start(tokens: TokenPair): void {
    this.access = tokens.accessToken;
    // Measured from when the answer arrived: the browser's clock may differ from the server's.
    this.accessExpiresAt = Date.now() + tokens.expiresIn * 1000;
    sessionStorage.setItem(this.storageKey, tokens.refreshToken);
  }

  end(): void {
    this.access = undefined;
    this.accessExpiresAt = 0;
    sessionStorage.removeItem(this.storageKey);
  }

  /** A live access token, refreshing first when it is (nearly) expired; undefined when logged out. */
  async accessToken(): Promise<string | undefined> {
    if (this.access && Date.now() < this.accessExpiresAt - EARLY_MS) return this.access;
    return this.refresh();
  }

  /** The next token pair; concurrent callers share one refresh (a refresh token works once). */
  refresh(): Promise<string | undefined> {
    this.inFlight ??= this.rotate().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async rotate(): Promise<string | undefined> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return undefined;
    let response: Response;
    try {
      response = await fetch(this.refreshPath, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
    } catch {
      throw ApiError.network();
    }
    if (!response.ok) {
      const error = await ApiError.from(response);
      // A 429 or a 503 is not the end of the session: the same token is tried next time.
      if (response.status === 401 || response.status === 400) {
        this.end();
        this.onEnded(error);
      }
      throw error;
    }
    this.start((await response.json()) as TokenPair);
    return this.access;
  }
}
