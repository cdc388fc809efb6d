import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
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
import { Operator, Public } from '../access/access.decorators';
import { DEFAULT_PAGE_SIZE } from '../http/pagination';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
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
  @ApiForbiddenResponse({ description: 'INVITATION_INVALID' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP and per email; see Retry-After' })
  @ApiConflictResponse({ description: 'TENANT_NAME_TAKEN, EMAIL_TAKEN or USERNAME_TAKEN' })
  register(@Body() dto: RegisterDto): Promise<RegisterResponseDto> {
    return this.registration.register(dto);
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
