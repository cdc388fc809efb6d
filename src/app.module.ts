import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AuthModule } from './auth/auth.module';
import { CitusAdminModule } from './citus-admin/citus-admin.module';
import { AppConfig } from './config/app-config';
import { APP_CONFIG, ConfigModule } from './config/config.module';
import { CredentialsModule } from './credentials/credentials.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { AllExceptionsFilter } from './http/exception.filter';
import { LoggingModule } from './logging/logging.module';
import { MailModule } from './mail/mail.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotesModule } from './notes/notes.module';
import { OperatorsModule } from './operators/operators.module';
import { SessionsModule } from './sessions/sessions.module';
import { TenancyModule } from './tenancy/tenancy.module';
import { TenantsModule } from './tenants/tenants.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    MetricsModule,
    DatabaseModule,
    TenancyModule,
    MailModule,
    SessionsModule,
    CredentialsModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => config.bcryptCost,
    }),
    AuthModule,
    AccountsModule,
    TenantsModule,
    UsersModule,
    NotesModule,
    OperatorsModule,
    CitusAdminModule,
    HealthModule,
  ],
  providers: [{ provide: APP_FILTER, useClass: AllExceptionsFilter }],
})
export class AppModule {}
