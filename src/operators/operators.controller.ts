import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Public } from '../access/access.decorators';
import { TokenService } from '../auth/token.service';
import { AuthRateLimitGuard } from '../rate-limit/auth-rate-limit';
import { OperatorLoginDto, OperatorTokenDto } from './dto/operator-login.dto';
import { OperatorsService } from './operators.service';

@ApiTags('admin')
@Controller('admin/auth')
export class OperatorsController {
  constructor(
    private readonly operators: OperatorsService,
    private readonly tokens: TokenService,
  ) {}

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: OperatorTokenDto })
  @ApiBadRequestResponse({ description: 'A field is missing or invalid; the message names it' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  async login(@Body() dto: OperatorLoginDto): Promise<OperatorTokenDto> {
    const operator = await this.operators.verifyCredentials(dto.email, dto.password);
    return this.tokens.signOperator(operator);
  }
}
