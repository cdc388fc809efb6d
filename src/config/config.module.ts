import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule, ConfigService } from '@nestjs/config';
import { AppConfig, loadConfig } from './app-config';
import { environmentVariables } from './environment';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * @nestjs/config's ConfigService is the one reader of the environment (no .env file: the
 * process environment is the configuration, as in containers). APP_CONFIG is what it reads,
 * checked against the schema (environment.ts) when the module is created, so a bad value stops
 * the boot with a message naming the variable; services take the typed object.
 */
@Global()
@Module({
  imports: [NestConfigModule.forRoot({ ignoreEnvFile: true })],
  providers: [
    {
      provide: APP_CONFIG,
      inject: [ConfigService],
      useFactory: (config: ConfigService): AppConfig =>
        loadConfig(
          Object.fromEntries(
            environmentVariables().map((name) => [name, config.get<string>(name)]),
          ),
        ),
    },
  ],
  exports: [APP_CONFIG],
})
export class ConfigModule {}
