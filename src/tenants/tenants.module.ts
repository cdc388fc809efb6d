import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AdminDatabaseModule } from '../database/admin-database';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { UsersModule } from '../users/users.module';
import { InvitationsService } from './invitations.service';
import { RecentRegistrations } from './recent-registrations';
import { RegistrationController, RegistrationsAdminController } from './registration.controller';
import { RegistrationService } from './registration.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

@Module({
  imports: [UsersModule, AccountsModule, AuthRateLimitModule, AdminDatabaseModule],
  controllers: [TenantsController, RegistrationController, RegistrationsAdminController],
  providers: [TenantsService, InvitationsService, RegistrationService, RecentRegistrations],
  exports: [TenantsService],
})
export class TenantsModule {}
