import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { TenantContext } from './tenant-context';
import { TenantContextInterceptor } from './tenant-context.interceptor';
import { TenantScopedRepositoryFactory } from './tenant-scoped.repository';

@Global()
@Module({
  providers: [
    TenantContext,
    {
      provide: TenantScopedRepositoryFactory,
      inject: [DataSource, TenantContext],
      useFactory: (dataSource: DataSource, context: TenantContext) =>
        new TenantScopedRepositoryFactory(dataSource.manager, context),
    },
    { provide: APP_INTERCEPTOR, useClass: TenantContextInterceptor },
  ],
  exports: [TenantContext, TenantScopedRepositoryFactory],
})
export class TenancyModule {}
