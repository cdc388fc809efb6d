import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuthRateLimitModule } from '../rate-limit/auth-rate-limit';
import { OperatorsController } from './operators.controller';
import { OperatorsService } from './operators.service';

@Module({
  imports: [AuthModule, AuthRateLimitModule],
  controllers: [OperatorsController],
  providers: [OperatorsService],
})
export class OperatorsModule {}
