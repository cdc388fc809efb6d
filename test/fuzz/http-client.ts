import { Agent, IncomingHttpHeaders, request } from 'node:http';

export interface HttpRequest {
  method: string;
  /** Already encoded: sent as written (Node refuses only characters outside \x21-\xff). */
  path: string;
  /** In order, duplicates allowed. */
  headers: Array<[string, string]>;
  body?: Buffer;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON, undefined otherwise. */
  json: unknown;
}

const TIMEOUT_MS = 30_000;

/**
 * A plain HTTP/1.1 client over real sockets, so requests pass Node's parser and Fastify's body
 * handling as in production; supertest would set headers of its own.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /**
   * Sends with a Content-Length (0 without a body) unless the request lists a Transfer-Encoding
   * itself: Node would otherwise send a POST without a body as an empty chunked body.
   */
  async send(message: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.attempt(message, this.agent);
    } catch (error) {
      // A kept-alive socket the server had just closed: the request never reached it.
      if ((error as { reusedSocket?: boolean }).reusedSocket) return this.attempt(message, false);
      throw error;
    }
  }

  private attempt(message: HttpRequest, agent: Agent | false): Promise<HttpResponse> {
    const chunked = message.headers.some(([name]) => name.toLowerCase() === 'transfer-encoding');
    const length: Array<[string, string]> = chunked
      ? []
      : [['content-length', String(message.body?.length ?? 0)]];
    return new Promise((resolve, reject) => {
      let answered = false;
      const outgoing = request(
        {
          host: this.host,
          port: this.port,
          method: message.method,
          path: message.path,
          // Given as a list, headers go out exactly as listed: Node adds no Host of its own.
          headers: [['host', `${this.host}:${this.port}`], ...length, ...message.headers].flat(),
          agent,
          timeout: TIMEOUT_MS,
        },
        (incoming) => {
          answered = true;
          const chunks: Buffer[] = [];
          const finish = () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            if (/\bjson\b/i.test(String(incoming.headers['content-type'] ?? ''))) {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, json });
          };
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          // A connection closed mid-answer resolves with what arrived (a promise settles once).
          incoming.on('end', finish);
          incoming.on('close', finish);
        },
      );
      outgoing.on('timeout', () => {
        outgoing.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`));
      });
      outgoing.on('error', (error) => {
        // The server may answer (413) and close before the whole body is written: that answer counts.
        if (answered) return;
        reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket }));
      });
      if (message.body) outgoing.end(message.body);
      else outgoing.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
