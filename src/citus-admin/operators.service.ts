import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import * as bcrypt from 'bcrypt';
import { Repository } from 'typeorm';
import { OperatorTokenClaims } from '../auth/authenticated-user';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { OperatorLoginDto, OperatorTokenDto } from './dto/operator-login.dto';
import { OperatorEntity } from './operator.entity';

const INVALID_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class OperatorsService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(OperatorsService.name);
  /** Same trick as tenant login: an unknown email costs one bcrypt verification too. */
  private dummyHash = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(OperatorEntity) private readonly operators: Repository<OperatorEntity>,
    private readonly jwt: JwtService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await bcrypt.hash(randomBytes(16).toString('hex'), this.config.bcryptCost);
  }

  /** Creates the first operator from ADMIN_EMAIL / ADMIN_PASSWORD while none exists. */
  async onApplicationBootstrap(): Promise<void> {
    const bootstrap = this.config.bootstrapOperator;
    if (!bootstrap) return;
    if ((await this.operators.count()) > 0) return;
    try {
      await this.create(bootstrap.email, bootstrap.password);
      this.logger.log(`created the first operator account (${bootstrap.email}) from ADMIN_EMAIL`);
    } catch (error) {
      // Another instance starting at the same moment may have created it first: that is fine.
      if (!(error instanceof AppError && error.code === 'OPERATOR_EXISTS')) throw error;
    }
  }

  async create(email: string, password: string): Promise<OperatorEntity> {
    const normalized = email.trim().toLowerCase();
    const operator = this.operators.create({
      email: normalized,
      passwordHash: await bcrypt.hash(password, this.config.bcryptCost),
    });
    try {
      await this.operators.insert(operator);
    } catch (error) {
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'operators_email_key')) {
        throw new AppError('OPERATOR_EXISTS', `An operator with email ${normalized} exists`);
      }
      throw error;
    }
    return operator;
  }

  async login(dto: OperatorLoginDto): Promise<OperatorTokenDto> {
    const operator = await this.operators.findOne({
      where: { email: dto.email },
      select: ['id', 'email', 'passwordHash', 'createdAt'],
    });
    const ok = await bcrypt.compare(dto.password, operator?.passwordHash ?? this.dummyHash);
    if (!operator || !ok) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    const claims: OperatorTokenClaims = { scope: 'operator', sub: operator.id };
    return {
      accessToken: await this.jwt.signAsync(claims),
      tokenType: 'Bearer',
      expiresIn: this.config.jwt.ttlSeconds,
    };
  }
}
