import { SkipThrottle } from '@nestjs/throttler';
import { Body, Controller, Header, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { FastifyRequest } from 'fastify';
import { Operator, Public } from '../access/access.decorators';
import { AuthenticatedOperator } from '../access/principal';
import { SessionTokensDto } from '../auth/dto/auth-responses.dto';
import { RefreshDto } from '../auth/dto/session.dto';
import { TokenService } from '../auth/token.service';
import { AppError } from '../errors/app-error';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { clientOf } from '../rate-limit/client-address';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { OPERATOR_TENANT, SessionsService } from '../sessions/sessions.service';
import { OperatorLoginDto } from './dto/operator-login.dto';
import { OperatorsService } from './operators.service';

@ApiTags('admin')
@Public()
@UseGuards(AuthRateLimitGuard)
@Controller('admin/auth')
export class OperatorsController {
  constructor(
    private readonly operators: OperatorsService,
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly backoff: LoginBackoff,
  ) {}

  // Wrong passwords slow down their own client (LoginBackoff), never the account for everyone.
  @SkipThrottle({ email: true })
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: SessionTokensDto, description: 'Use with the "operator" scheme' })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; the message names it' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ description: 'Failed logins from this client: see Retry-After' })
  async login(
    @Body() dto: OperatorLoginDto,
    @Req() request: FastifyRequest,
  ): Promise<SessionTokensDto> {
    const client = clientOf(request.ip);
    await this.backoff.check(dto.email, client);
    const operator = await this.operators
      .verifyCredentials(dto.email, dto.password)
      .catch(async (error: unknown) => {
        await this.backoff.failed(dto.email, client);
        throw error;
      });
    await this.backoff.succeeded(dto.email, client);
    const session = await this.sessions.start({
      tenantId: OPERATOR_TENANT,
      kind: 'operator',
      id: operator.id,
    });
    return {
      ...(await this.tokens.signOperator(operator, session.family)),
      refreshToken: session.refreshToken,
      refreshExpiresIn: session.refreshExpiresIn,
    };
  }

  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: SessionTokensDto })
  @ApiBadRequestResponse({ description: 'refreshToken is missing or not a string of 20 to 200' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED or SESSION_REVOKED (a replay)' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited per IP; see Retry-After' })
  async refresh(@Body() dto: RefreshDto): Promise<SessionTokensDto> {
    if (!dto.refreshToken.startsWith(`${OPERATOR_TENANT}.`)) {
      throw new AppError('UNAUTHENTICATED', 'Not an operator session');
    }
    const rotated = await this.sessions.rotate(dto.refreshToken);
    const operator =
      rotated.subject.kind === 'operator'
        ? await this.operators.find(rotated.subject.id)
        : undefined;
    if (!operator) {
      await this.sessions.revokeFamily(rotated.subject.tenantId, rotated.family);
      throw new AppError('UNAUTHENTICATED', 'No operator has this session');
    }
    return {
      ...(await this.tokens.signOperator(operator, rotated.family)),
      refreshToken: rotated.refreshToken,
      refreshExpiresIn: rotated.refreshExpiresIn,
    };
  }
}

@ApiTags('admin')
@Operator()
@Controller('admin/auth')
export class OperatorSessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'This session ends, its access token with it, at once' })
  async logout(@Req() request: FastifyRequest & { user: AuthenticatedOperator }): Promise<void> {
    await this.sessions.revokeFamily(OPERATOR_TENANT, request.user.sessionId);
  }
}
