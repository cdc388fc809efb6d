import { Body, Controller, Get, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Operator, OptionalUser, Public } from '../access/access.decorators';
import { FastifyRequest } from 'fastify';
import { AuthenticatedUser } from '../access/principal';
import { EmailTokenDto, VerifiedDto } from '../accounts/dto/account.dto';
import { DEFAULT_PAGE_SIZE } from '../http/pagination';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { clientOf } from '../rate-limit/client-address';
import { RegisterDto, RegisterResponseDto } from './dto/register.dto';
import { RegistrationsAnswer, RegistrationsQueryDto } from './dto/registration.view';
import { RecentRegistrations } from './recent-registrations';
import { RegistrationService } from './registration.service';

@ApiTags('auth')
@Controller('auth')
export class RegistrationController {
  constructor(private readonly registration: RegistrationService) {}

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('register')
  @ApiCreatedResponse({ type: RegisterResponseDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; the message names it' })
  @ApiForbiddenResponse({
    description:
      'INVITATION_INVALID, or EMAIL_NOT_VERIFIED (confirm it before joining another tenant)',
  })
  @ApiTooManyRequestsResponse({
    description:
      'Rate limited per IP and per email, or this client failed to give this account its password too often (as a login); see Retry-After',
  })
  @ApiConflictResponse({
    description:
      'TENANT_NAME_TAKEN, EMAIL_TAKEN, USERNAME_TAKEN, or ACCOUNT_EXISTS (prove the account: its password or a session)',
  })
  register(
    @Body() dto: RegisterDto,
    @Req() request: FastifyRequest,
    @OptionalUser() caller?: AuthenticatedUser,
  ): Promise<RegisterResponseDto> {
    return this.registration.register(dto, clientOf(request.ip), caller);
  }

  /** Here rather than in accounts/: confirming a claimed registration opens its member row. */
  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('verify-email')
  @HttpCode(200)
  @ApiOkResponse({ type: VerifiedDto })
  @ApiBadRequestResponse({ description: 'TOKEN_INVALID: wrong, expired or already used' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP and per email; see Retry-After' })
  verifyEmail(@Body() dto: EmailTokenDto): Promise<VerifiedDto> {
    return this.registration.verifyEmail(dto.token);
  }
}

/** For operators: who signed up lately, across tenants. */
@ApiTags('admin')
@Operator()
@Controller('admin/registrations')
export class RegistrationsAdminController {
  constructor(private readonly recent: RecentRegistrations) {}

  @Get()
  @ApiOperation({ summary: 'The most recent registrations across all tenants' })
  @ApiOkResponse({ type: RegistrationsAnswer })
  list(@Query() query: RegistrationsQueryDto): Promise<RegistrationsAnswer> {
    return this.recent.list(query.limit ?? DEFAULT_PAGE_SIZE);
  }
}
