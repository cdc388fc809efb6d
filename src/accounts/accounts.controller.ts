import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Logger } from 'pino';
import { Public } from '../access/access.decorators';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../logging/logging.module';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { AcceptedDto, EmailDto, ResetPasswordDto } from './dto/account.dto';
import { inFixedTime } from './fixed-time';
import { PasswordRecoveryService } from './password-recovery.service';
import { VerificationService } from './verification.service';

const ACCEPTED: AcceptedDto = { status: 'accepted' };

@ApiTags('auth')
@Public()
@UseGuards(AuthRateLimitGuard)
@ApiTooManyRequestsResponse({ description: 'Rate limited per IP and per email; see Retry-After' })
@Controller('auth')
export class AccountsController {
  constructor(
    private readonly verification: VerificationService,
    private readonly recovery: PasswordRecoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Answers in the same time whether or not the email has an account (ACCOUNT_ANSWER_MS). */
  private fixedTime(what: string, work: Promise<unknown>): Promise<void> {
    return inFixedTime(this.config.accountAnswerMs, work, (error) =>
      this.logger.error({ err: error }, `${what} failed after its answer`),
    );
  }

  // No per-email budget here: a stranger would spend it and the owner get 429. Mails to one
  // address are spaced instead (mailSpacingMs); the per-IP budget still applies.
  @Post('verify-email/resend')
  @SkipThrottle({ email: true })
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description:
      'A new token is mailed if the address has an unverified account and no confirmation mail went there in the last minute (the wait doubles with each mail, up to an hour); the same answer otherwise',
  })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP; see Retry-After' })
  @ApiBadRequestResponse({ description: 'email is missing or not a valid email address' })
  async resend(@Body() dto: EmailDto): Promise<AcceptedDto> {
    await this.fixedTime('confirmation mail', this.verification.resend(dto.email));
    return ACCEPTED;
  }

  @Post('password-reset')
  @SkipThrottle({ email: true })
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: AcceptedDto,
    description:
      'A reset token is mailed if the address has an account and no reset mail went there in the last minute (the wait doubles with each mail, up to an hour); the same answer otherwise',
  })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP; see Retry-After' })
  @ApiBadRequestResponse({ description: 'email is missing or not a valid email address' })
  async requestReset(@Body() dto: EmailDto): Promise<AcceptedDto> {
    await this.fixedTime('password reset', this.recovery.requestReset(dto.email));
    return ACCEPTED;
  }

  @Post('password-reset/confirm')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The new password is set; every session has ended' })
  @ApiBadRequestResponse({ description: 'TOKEN_INVALID, or the password breaks a rule (named)' })
  confirmReset(@Body() dto: ResetPasswordDto): Promise<void> {
    return this.recovery.confirmReset(dto.token, dto.password);
  }
}
