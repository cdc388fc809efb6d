import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { databaseOutage } from '../database/outage';
import { CachedProbe } from '../metrics/cached-probe';
import { MetricsService } from '../metrics/metrics.service';
import { ClusterRepository } from './cluster.repository';
import { UNFINISHED_JOB_STATES } from './cluster-rows';
import { RebalanceService } from './rebalance.service';

/** What the last probe of the cluster found. */
export interface ClusterState {
  /** `host:port` of every primary node, and whether the service reaches it. */
  nodes: Array<{ node: string; up: boolean }>;
  /** Whether a rebalance or drain job is unfinished; unknown while the coordinator is down. */
  rebalanceRunning?: boolean;
}

/** A probe asks the coordinator at most this often, however often Prometheus scrapes. */
export const CLUSTER_PROBE_MAX_AGE_MS = 5_000;
/** A scrape waits this long at most for a fresh probe, then answers the last one. */
export const CLUSTER_PROBE_WAIT_MS = 2_000;

/**
 * pg-pool's wording when no connection of the pool came free in time: the admin pool is busy
 * (operators' moves hold it), which says nothing about the nodes.
 */
const POOL_BUSY = 'timeout exceeded when trying to connect';

/**
 * The cluster's series, `citus_node_up{node}` and `citus_rebalance_running`, computed when
 * Prometheus scrapes from one probe of at most two statements in turn on the admin connection
 * (so a scrape holds one of its connections at most), shared by scrapes for 5 s. On plain
 * PostgreSQL, or before the coordinator has ever answered, they have no samples. When the
 * coordinator stops answering, every node it knew is reported down (the service reaches none of
 * them) and the rebalance state is left out.
 */
@Injectable()
export class CitusMetrics {
  private readonly logger = new Logger(CitusMetrics.name);

  constructor(
    private readonly cluster: ClusterRepository,
    private readonly rebalance: RebalanceService,
    metrics: MetricsService,
  ) {
    const state = new CachedProbe<ClusterState>((previous) => this.probe(previous), {
      maxAgeMs: CLUSTER_PROBE_MAX_AGE_MS,
      waitMs: CLUSTER_PROBE_WAIT_MS,
    });
    const registers = [metrics.registry];
    new Gauge({
      name: 'citus_node_up',
      help: 'Whether the service reaches the Citus node (the coordinator directly, a worker through it)',
      labelNames: ['node'],
      // Under node:cluster: down as soon as one worker process finds it down.
      aggregator: 'min',
      registers,
      async collect() {
        const known = await state.read();
        this.reset();
        for (const { node, up } of known?.nodes ?? []) this.set({ node }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'citus_rebalance_running',
      help: 'Whether a Citus rebalance or drain job is unfinished (scheduled, running, cancelling, failing)',
      aggregator: 'max',
      registers,
      async collect() {
        const running = (await state.read())?.rebalanceRunning;
        if (running === undefined) this.remove();
        else this.set(running ? 1 : 0);
      },
    });
  }

  private async probe(previous: ClusterState | undefined): Promise<ClusterState | undefined> {
    try {
      if (!(await this.cluster.isCitus())) return undefined;
      const nodes = await this.cluster.nodeReach();
      const job = await this.rebalance.status();
      return {
        nodes: nodes.map((node) => ({ node: `${node.host}:${node.port}`, up: node.reachable })),
        rebalanceRunning: UNFINISHED_JOB_STATES.includes(job.state),
      };
    } catch (error) {
      const busy = error instanceof Error && error.message === POOL_BUSY;
      if (!busy && databaseOutage(error)?.code === 'DATABASE_UNAVAILABLE') {
        return previous && { nodes: previous.nodes.map(({ node }) => ({ node, up: false })) };
      }
      this.logger.warn(
        `cluster metrics kept from the last probe: ${error instanceof Error ? error.message : String(error)}`,
      );
      return previous;
    }
  }
}
