import { Module } from '@nestjs/common';
import { AdminDatabaseModule } from '../database/admin-database';
import { CatalogService } from './catalog.service';
import { CitusAdminController } from './citus-admin.controller';
import { CitusMetrics } from './citus-metrics';
import { ClusterRepository } from './cluster.repository';
import { NodesService } from './nodes.service';
import { OperatorActions } from './operator-actions';
import { RebalanceService } from './rebalance.service';
import { TenantPlacementService } from './tenant-placement.service';
import { TransferModeService } from './transfer-mode.service';

/**
 * The operators' view of the cluster and its growth actions, over the admin connection, and the
 * cluster's Prometheus series (CitusMetrics).
 */
@Module({
  imports: [AdminDatabaseModule],
  controllers: [CitusAdminController],
  providers: [
    ClusterRepository,
    CatalogService,
    TenantPlacementService,
    RebalanceService,
    NodesService,
    OperatorActions,
    TransferModeService,
    CitusMetrics,
  ],
})
export class CitusAdminModule {}
