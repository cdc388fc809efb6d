import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CitusDetector } from './citus';
import { buildDataSourceOptions } from './data-source-options';
import { GlobalRepositories, Transactions } from './global-repositories';
import { PoolStats } from './pool-stats';

/**
 * The service's database connection and the only ways to it outside the scoped layer:
 * repositories for tables that belong to no tenant, transactions, and the Citus check.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        buildDataSourceOptions({
          url: config.databaseUrl,
          poolSize: config.databasePoolSize,
          statementTimeoutMs: config.database.statementTimeoutMs,
          connectTimeoutMs: config.database.connectTimeoutMs,
        }),
    }),
  ],
  providers: [GlobalRepositories, Transactions, CitusDetector, PoolStats],
  exports: [GlobalRepositories, Transactions, CitusDetector, PoolStats],
})
export class DatabaseModule {}
