import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { poolOf } from './sql';
import { labelStatements } from './statement-tags';

/** What a pg Pool reports about itself (node-postgres' Pool counters). */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export interface PoolNumbers {
  /** Connections checked out to a query or transaction. */
  inUse: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

/**
 * The app pool's counters, read without a query (for load shedding and metrics); and, once the
 * pool exists, its statements labelled with their request (statement-tags.ts).
 */
@Injectable()
export class PoolStats implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.database.requestIds) labelStatements(poolOf(this.dataSource));
  }

  app(): PoolNumbers {
    return poolNumbers(this.dataSource);
  }
}

/** A TypeORM postgres DataSource's pool counters; zeros before it has connected. */
export function poolNumbers(dataSource: DataSource): PoolNumbers {
  // TypeORM keeps node-postgres' Pool on the driver as `master` (no replication configured).
  const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
  if (!pool) return { inUse: 0, idle: 0, waiting: 0 };
  return {
    inUse: pool.totalCount - pool.idleCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  };
}
