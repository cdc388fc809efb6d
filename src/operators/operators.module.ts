import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { OperatorStillExistsGuard } from './operator-still-exists.guard';
import { OperatorsController, OperatorSessionsController } from './operators.controller';
import { OperatorsService } from './operators.service';

@Module({
  imports: [AuthModule, AuthRateLimitModule],
  controllers: [OperatorsController, OperatorSessionsController],
  providers: [
    OperatorsService,
    // After AuthModule's guard (modules register their global guards in import order).
    { provide: APP_GUARD, useClass: OperatorStillExistsGuard },
  ],
})
export class OperatorsModule {}
