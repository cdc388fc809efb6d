import { AggregatorRegistry, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { createMetricsServer, listen } from './metrics-endpoint';

/**
 * Metrics under node:cluster (WEB_CONCURRENCY > 1). The workers share the API port but cannot
 * share the metrics port: the primary alone listens on it and, for each scrape, asks every
 * worker for its series over the cluster's IPC channel (prom-client's AggregatorRegistry), then
 * answers their aggregate. Counters, histograms and pool gauges are summed, so every series reads
 * as for one process; each series says how it is aggregated where a sum would mislead (event-loop
 * lag: mean, min and max of the workers; citus_node_up: the lowest).
 *
 * A worker that does not answer within 5 s fails the scrape (prom-client's limit): Prometheus
 * records it as down for that scrape.
 */
export async function serveClusterMetrics(config: AppConfig['metrics']): Promise<void> {
  if (!config.enabled) return;
  const aggregator = new AggregatorRegistry();
  const server = createMetricsServer(async () => ({
    contentType: aggregator.contentType,
    body: await aggregator.clusterMetrics(),
  }));
  await listen(server, config.host, config.port);
}

/**
 * In a worker, from its first moment: answers the primary's requests, with nothing until the app
 * has booted (`shareWithPrimary`). Otherwise a scrape while a worker boots would wait for it.
 */
export function answerPrimaryScrapes(config: AppConfig['metrics']): void {
  if (!config.enabled) return;
  // The constructor is what adds the worker's IPC listener; the instance itself is not needed.
  void new AggregatorRegistry();
  shareWithPrimary([]);
}

/** The registries a worker's answers carry (prom-client keeps them process-wide). */
export function shareWithPrimary(registries: Registry[]): void {
  AggregatorRegistry.setRegistries(registries);
}
