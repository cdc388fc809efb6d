import { Controller, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { FastifyRequest as Request } from 'fastify';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { Auth, CurrentUser, Public } from '../access/access.decorators';
import { AuthService, VerifiedLogin } from './auth.service';
import { AuthenticatedUser } from '../access/principal';
import { LoginResponseDto, MeResponseDto } from './dto/auth-responses.dto';
import { LoginDto } from './dto/login.dto';
import { LocalAuthGuard } from './local-auth.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(AuthRateLimitGuard, LocalAuthGuard)
  @Post('login')
  @HttpCode(200)
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; the message names it' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same answer for unknown email)' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP and per email; see Retry-After' })
  @ApiConflictResponse({
    description: 'TENANT_CHOICE_REQUIRED, with `tenants: [{id, name}]` to choose from',
  })
  login(@Req() request: Request & { user: VerifiedLogin }): Promise<LoginResponseDto> {
    return this.auth.issueToken(request.user);
  }

  @Auth()
  @Get('me')
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentUser() user: AuthenticatedUser): Promise<MeResponseDto> {
    return this.auth.me(user);
  }
}
