import { Global, Module } from '@nestjs/common';
import { LiveAccess } from '../database/live-access';
import { SessionsService } from './sessions.service';

@Global()
@Module({ providers: [SessionsService, LiveAccess], exports: [SessionsService, LiveAccess] })
export class SessionsModule {}
