import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { normalizeEmail } from '../credentials/email';
import { PasswordHasher } from '../credentials/passwords';
import { GlobalRepositories } from '../database/global-repositories';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { OperatorEntity } from './operator.entity';

/** Operator accounts: people who run the service, outside every tenant. */
@Injectable()
export class OperatorsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(OperatorsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly global: GlobalRepositories,
    private readonly passwords: PasswordHasher,
  ) {}

  private get operators() {
    return this.global.for(OperatorEntity);
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
    const normalized = normalizeEmail(email);
    const operator = this.operators.create({
      email: normalized,
      passwordHash: await this.passwords.hash(password),
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

  find(id: string): Promise<OperatorEntity | null> {
    return this.operators.findOneBy({ id });
  }

  /** The operator with these credentials; an unknown email costs one bcrypt check too. */
  async verifyCredentials(email: string, password: string): Promise<OperatorEntity> {
    const operator = await this.operators.findOne({
      where: { email: normalizeEmail(email) },
      select: ['id', 'email', 'passwordHash', 'createdAt'],
    });
    if (!(await this.passwords.verify(password, operator?.passwordHash)) || !operator) {
      throw new AppError('INVALID_CREDENTIALS', 'Invalid email or password');
    }
    return operator;
  }
}
