import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { jwtModuleOptions } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AdminAuthController } from './admin-auth.controller';
import { ADMIN_CONNECTION, CitusAdminService } from './citus-admin.service';
import { CitusAdminController } from './citus-admin.controller';
import { OperatorEntity } from './operator.entity';
import { OperatorsService } from './operators.service';

@Module({
  imports: [
    AuthRateLimitModule,
    TypeOrmModule.forFeature([OperatorEntity]),
    // A connection of its own: cluster-wide statements span every shard, which the tenant
    // connection may be configured to refuse (citus.multi_task_query_log_level).
    TypeOrmModule.forRootAsync({
      name: ADMIN_CONNECTION,
      inject: [APP_CONFIG],
      // The name goes in the options too, or the connection would replace the default one.
      useFactory: (config: AppConfig) => ({
        name: ADMIN_CONNECTION,
        type: 'postgres' as const,
        url: config.adminDatabaseUrl,
        entities: [],
        synchronize: false,
        logging: ['warn' as const],
        // No statement timeout: isolating or moving a big tenant legitimately takes minutes.
        extra: { max: 3, connectionTimeoutMillis: config.database.connectTimeoutMs },
      }),
    }),
    JwtModule.registerAsync({ inject: [APP_CONFIG], useFactory: jwtModuleOptions }),
  ],
  controllers: [AdminAuthController, CitusAdminController],
  providers: [CitusAdminService, OperatorsService],
  exports: [OperatorsService],
})
export class CitusAdminModule {}
