import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG, ConfigModule } from '../config/config.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { OperatorsService } from './operators.service';

/** What `create-operator` needs, and nothing else: no HTTP, no admin connection, no auth. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    CredentialsModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => config.bcryptCost,
    }),
  ],
  providers: [OperatorsService],
})
export class OperatorsCliModule {}
