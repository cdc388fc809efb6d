import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PoolExecutor, poolOf } from '../database/sql';
import { TenantContext } from './tenant-context';
import { TenantScopedRepositoryFactory } from './tenant-scoped.repository';

@Global()
@Module({
  providers: [
    TenantContext,
    {
      provide: TenantScopedRepositoryFactory,
      inject: [DataSource, TenantContext, APP_CONFIG],
      useFactory: (dataSource: DataSource, context: TenantContext, config: AppConfig) =>
        new TenantScopedRepositoryFactory(
          dataSource.manager,
          new PoolExecutor(poolOf(dataSource), config.database.preparedStatements),
          context,
        ),
    },
  ],
  exports: [TenantContext, TenantScopedRepositoryFactory],
})
export class TenancyModule {}
