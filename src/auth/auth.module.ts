import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG } from '../config/config.module';
import { AccountsModule } from '../accounts/accounts.module';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { TenantBudgetModule } from '../rate-limit/tenant-budget';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from '../access/jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { LocalStrategy } from './local.strategy';
import { TenantAdmission } from './tenant-admission';
import { jwtModuleOptions, TokenService } from './token.service';

/**
 * Tenant users' login and the one global guard. TokenService is the only issuer and checker of
 * access tokens (tenant users and operators).
 */
@Module({
  imports: [
    AuthRateLimitModule,
    TenantBudgetModule,
    PassportModule,
    JwtModule.registerAsync({ inject: [APP_CONFIG], useFactory: jwtModuleOptions }),
    TenantsModule,
    UsersModule,
    AccountsModule,
  ],
  controllers: [AuthController],
  providers: [
    TokenService,
    AuthService,
    JwtStrategy,
    LocalStrategy,
    TenantAdmission,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [TokenService],
})
export class AuthModule {}
