import { Injectable } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { takePage } from '../http/pagination';
import { citusRequired } from './citus-required';
import { num, TenantRow } from './cluster-rows';
import { ClusterRepository } from './cluster.repository';
import { TransferModeService } from './transfer-mode.service';
import { NodeRef } from './dto/catalog.dto';
import {
  IsolateTenantDto,
  IsolationAnswer,
  LoadTracking,
  TenantAnswer,
  TenantPlacementView,
  TenantsAnswer,
} from './dto/tenant-placement.dto';

/** Where each tenant lives, how big and busy it is, and moving one onto a shard of its own. */
@Injectable()
export class TenantPlacementService {
  constructor(
    private readonly cluster: ClusterRepository,
    private readonly transferMode: TransferModeService,
  ) {}

  async tenants(limit: number, cursor?: string): Promise<TenantsAnswer> {
    const rows = await this.cluster.tenants({ cursor, limit: limit + 1 });
    const page = takePage(rows, limit, (row) => row.id);
    const { citus, loadTracking, items } = await this.describe(page.rows);
    return { citus, loadTracking, items, nextCursor: page.nextCursor };
  }

  async tenant(id: string): Promise<TenantAnswer> {
    const rows = await this.cluster.tenants({ id });
    if (rows.length === 0) throw new AppError('TENANT_NOT_FOUND', `Tenant ${id} not found`);
    const { citus, loadTracking, items } = await this.describe(rows);
    return { citus, loadTracking, tenant: items[0] };
  }

  /** Placement, counts and load for a page of tenants: four queries whatever the page size. */
  private async describe(
    tenants: TenantRow[],
  ): Promise<{ citus: boolean; loadTracking: LoadTracking; items: TenantPlacementView[] }> {
    const citus = await this.cluster.isCitus();
    const ids = tenants.map((tenant) => tenant.id);
    const [counts, placements, load] = await Promise.all([
      this.cluster.counts(ids),
      citus ? this.cluster.placementsOf(ids) : Promise.resolve([]),
      citus ? this.cluster.tenantLoad(ids) : Promise.resolve({ setting: 'unavailable', rows: [] }),
    ]);
    const countOf = (tenantId: string, kind: string): number =>
      counts.find((row) => row.tenantId === tenantId && row.kind === kind)?.n ?? 0;
    return {
      citus,
      loadTracking: { enabled: citus && load.setting !== 'none', setting: load.setting },
      items: tenants.map((tenant) => {
        const placement = placements.find((row) => row.tenantId === tenant.id);
        const stats = load.rows.find((row) => row.tenant_attribute === tenant.id);
        return {
          ...tenant,
          shardId: placement?.shardId ?? null,
          isolated: placement?.isolated === true,
          node: placement?.node ?? null,
          users: countOf(tenant.id, 'users'),
          notes: countOf(tenant.id, 'notes'),
          load: stats
            ? {
                queriesThisPeriod: num(stats.query_count_in_this_period),
                queriesLastPeriod: num(stats.query_count_in_last_period),
                readsThisPeriod: num(stats.read_count_in_this_period),
                readsLastPeriod: num(stats.read_count_in_last_period),
                cpuThisPeriod: num(stats.cpu_usage_in_this_period),
                cpuLastPeriod: num(stats.cpu_usage_in_last_period),
              }
            : null,
        };
      }),
    };
  }

  /**
   * The tenant, when it can be isolated: CITUS_REQUIRED, TENANT_NOT_FOUND or ALREADY_ISOLATED
   * otherwise (checked again under the operators' lock; said at once before it).
   */
  async isolatable(id: string) {
    if (!(await this.cluster.isCitus())) throw citusRequired('Tenant isolation');
    const { tenant } = await this.tenant(id);
    if (!tenant.shardId || !tenant.node) throw citusRequired('Tenant isolation');
    if (tenant.isolated) {
      throw new AppError(
        'ALREADY_ISOLATED',
        `Tenant ${id} already has shard ${tenant.shardId} to itself on node ${tenant.node.id}`,
      );
    }
    return { ...tenant, shardId: tenant.shardId, node: tenant.node };
  }

  /**
   * Splits the tenant's shard so that it holds this tenant alone, in every colocated table
   * (CASCADE), then optionally moves the new shard group to another worker, with the configured
   * shard transfer mode (CITUS_SHARD_TRANSFER_MODE, auto unless told otherwise; block_writes while
   * a node commits asynchronously, see TransferModeService).
   */
  async isolate(id: string, dto: IsolateTenantDto): Promise<IsolationAnswer> {
    const tenant = await this.isolatable(id);
    let target: NodeRef | undefined;
    if (dto.targetNodeId !== undefined) {
      target = await this.cluster.shardHolder(dto.targetNodeId);
      if (!target) {
        throw new AppError(
          'VALIDATION_FAILED',
          'targetNodeId must be an active node that may hold shards (see citus/nodes)',
          { errors: ['targetNodeId must be an active node that may hold shards'] },
        );
      }
    }

    let mode = await this.transferMode.resolve();
    let shardId: string;
    try {
      shardId = await this.cluster.isolate(id, mode);
    } catch (error) {
      // A server that does not allow Citus' decoding plugin (PostgreSQL 15.19+ without
      // output_plugin_libraries set) can still split by briefly blocking the tenant's writes.
      // Only `auto` may choose that; `force_logical` means logical or nothing.
      if (mode !== 'auto' || !/may not be used as an output plugin/.test(String(error))) {
        throw error;
      }
      mode = 'block_writes';
      shardId = await this.cluster.isolate(id, mode);
    }
    const moved = target !== undefined && target.id !== tenant.node.id;
    if (moved && target) await this.cluster.moveShard(shardId, tenant.node, target, mode);
    return {
      tenantId: id,
      shardId,
      node: await this.cluster.nodeOfShard(shardId),
      previousShardId: tenant.shardId,
      previousNode: tenant.node,
      moved,
      transferMode: mode,
    };
  }
}
