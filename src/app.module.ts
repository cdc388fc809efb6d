import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module';
import { CitusAdminModule } from './citus-admin/citus-admin.module';
import { AppConfig } from './config/app-config';
import { APP_CONFIG, ConfigModule } from './config/config.module';
import { buildDataSourceOptions } from './database/data-source-options';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { AllExceptionsFilter } from './http/exception.filter';
import { NotesModule } from './notes/notes.module';
import { TenancyModule } from './tenancy/tenancy.module';
import { TenantsModule } from './tenants/tenants.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
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
    TenancyModule,
    AuthModule,
    TenantsModule,
    UsersModule,
    NotesModule,
    HealthModule,
    CitusAdminModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
})
export class AppModule {}
