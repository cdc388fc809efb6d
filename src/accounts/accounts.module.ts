import { Module } from '@nestjs/common';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { EmailTokensService } from './email-tokens.service';
import { PasswordRecoveryService } from './password-recovery.service';
import { VerificationService } from './verification.service';

/** People: one account per email, its verification, its password and its recovery. */
@Module({
  imports: [AuthRateLimitModule],
  controllers: [AccountsController],
  providers: [AccountsService, EmailTokensService, VerificationService, PasswordRecoveryService],
  exports: [AccountsService, EmailTokensService, VerificationService, PasswordRecoveryService],
})
export class AccountsModule {}
