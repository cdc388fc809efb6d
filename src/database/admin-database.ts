import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { nodeConnectionSettings, withSessionSettings } from './data-source-options';
import { poolOf } from './sql';
import { labelStatements } from './statement-tags';
import { PoolNumbers, poolNumbers } from './pool-stats';

export const ADMIN_CONNECTION = 'admin';

/**
 * SQL on the operators' connection: cluster-wide statements that span every shard, which the
 * tenant connection may be configured to refuse (citus.multi_task_query_log_level).
 */
@Injectable()
export class ClusterSql implements OnModuleInit {
  constructor(
    @InjectDataSource(ADMIN_CONNECTION) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.database.requestIds) labelStatements(poolOf(this.db));
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.db.query<R[]>(sql, params);
  }

  /**
   * Runs `work` with one connection of the admin pool to itself, for what belongs to a session
   * (an advisory lock held across other statements, say); the connection goes back afterwards.
   */
  async withOwnConnection<T>(
    work: (query: <R>(sql: string, params?: unknown[]) => Promise<R[]>) => Promise<T>,
  ): Promise<T> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      return await work(
        <R>(sql: string, params: unknown[] = []) => runner.query(sql, params) as Promise<R[]>,
      );
    } finally {
      await runner.release();
    }
  }

  /** The admin pool's counters, read without a query (metrics). */
  pool(): PoolNumbers {
    return poolNumbers(this.db);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      name: ADMIN_CONNECTION,
      inject: [APP_CONFIG],
      // The name goes in the options too, or the connection would replace the default one.
      useFactory: (config: AppConfig) => ({
        name: ADMIN_CONNECTION,
        type: 'postgres' as const,
        url: withSessionSettings(
          config.adminDatabaseUrl,
          nodeConnectionSettings(config.database.connectTimeoutMs),
        ),
        entities: [],
        synchronize: false,
        logging: ['warn' as const],
        // No statement timeout: isolating or moving a big tenant legitimately takes minutes.
        extra: { max: 3, connectionTimeoutMillis: config.database.connectTimeoutMs },
      }),
    }),
  ],
  providers: [ClusterSql],
  exports: [ClusterSql],
})
export class AdminDatabaseModule {}
