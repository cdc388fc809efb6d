import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AdminDatabaseModule } from '../database/admin-database';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { TenantBudgetModule } from '../rate-limit/tenant-budget';
import { UsersModule } from '../users/users.module';
import { InvitationsService } from './invitations.service';
import { LimitedTenants, LimitedTenantsController } from './limited-tenants';
import { RecentRegistrations } from './recent-registrations';
import { RegistrationController, RegistrationsAdminController } from './registration.controller';
import { RegistrationService } from './registration.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

@Module({
  imports: [
    UsersModule,
    AccountsModule,
    AuthRateLimitModule,
    AdminDatabaseModule,
    TenantBudgetModule,
  ],
  controllers: [
    TenantsController,
    RegistrationController,
    RegistrationsAdminController,
    LimitedTenantsController,
  ],
  providers: [
    TenantsService,
    InvitationsService,
    RegistrationService,
    RecentRegistrations,
    LimitedTenants,
  ],
  exports: [TenantsService],
})
export class TenantsModule {}
