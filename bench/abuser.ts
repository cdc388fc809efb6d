import autocannon from 'autocannon';
import { RequestSpec, withSpec } from './load';

/**
 * The abusive load of `npm run bench -- --abuse`, in a process of its own (as it would come from
 * elsewhere): its event loop is not the one timing the well-behaved tenant's requests. Reads
 * {url, connections, seconds, request} from ABUSER, prints `started` when the load begins and,
 * at the end, one JSON line with the answers' statuses.
 */
interface Order {
  url: string;
  connections: number;
  seconds: number;
  request: RequestSpec;
}

async function main(): Promise<void> {
  const order = JSON.parse(process.env.ABUSER ?? '{}') as Order;
  const statuses: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: order.url,
        connections: order.connections,
        duration: order.seconds,
        timeout: 30,
        requests: [{ setupRequest: (request) => withSpec(request, order.request) }],
      },
      (error, answer) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(answer),
    );
    instance.on('response', (_client, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    process.stdout.write('started\n');
  });
  if (result.timeouts) statuses.timeout = result.timeouts;
  if (result.errors) statuses.error = result.errors;
  process.stdout.write(`${JSON.stringify(statuses)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
