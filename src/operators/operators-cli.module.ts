import { Module } from '@nestjs/common';
import { ConfigModule } from '../config/config.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { OperatorsService } from './operators.service';

/** What `create-operator` needs, and nothing else: no HTTP, no admin connection, no auth. */
@Module({
  imports: [ConfigModule, DatabaseModule, CredentialsModule],
  providers: [OperatorsService],
})
export class OperatorsCliModule {}
