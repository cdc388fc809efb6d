import { Injectable } from '@nestjs/common';

/** Flipped when the process is asked to stop, so readiness fails before the listener closes. */
@Injectable()
export class ShutdownState {
  private stopping = false;

  begin(): void {
    this.stopping = true;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }
}
