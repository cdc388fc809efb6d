import createClient, { Client } from 'openapi-fetch';
import { ApiError } from './errors';
import { Session } from './session';

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export interface Api<Paths extends object> {
  client: Client<Paths>;
  /**
   * Sends a request built by `send` and returns its data, or throws an ApiError. An access token
   * the API no longer accepts (it expired early, or the clock is off) is refreshed once and the
   * request sent again.
   */
  call<T>(send: (client: Client<Paths>) => Promise<Answer<T>>): Promise<T>;
}

/** A client typed by the service's OpenAPI document (web/src/api/*.gen.ts), carrying `session`. */
export function createApi<Paths extends object>(session: Session): Api<Paths> {
  const client = createClient<Paths>({ baseUrl: '' });
  client.use({
    async onRequest({ request }) {
      const token = await session.accessToken().catch(() => undefined);
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });
  const attempt = async <T>(send: () => Promise<Answer<T>>): Promise<Answer<T>> => {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw ApiError.network();
    }
  };
  return {
    client,
    async call<T>(send: (client: Client<Paths>) => Promise<Answer<T>>): Promise<T> {
      let answer = await attempt(() => send(client));
      if (answer.response.status === 401 && session.refreshToken) {
        const body = answer.error as { code?: string } | undefined;
        if (body?.code === 'UNAUTHENTICATED') {
          await session.refresh();
          answer = await attempt(() => send(client));
        }
      }
      if (!answer.response.ok) throw await ApiError.from(answer.response, answer.error);
      return answer.data as T;
    },
  };
}
