import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from '../metrics/metrics.service';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Outgoing mail over SMTP (SMTP_URL). Without SMTP_URL (allowed in development and test only)
 * nothing is sent and a warning says so; the mail's contents are never logged, since they carry
 * tokens.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger(MailService.name);
  private readonly transport?: Transporter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Optional: unit specs build the service without the metrics module.
    @Optional() private readonly metrics?: MetricsService,
  ) {
    if (config.mail.smtpUrl) this.transport = createTransport(config.mail.smtpUrl);
  }

  /** Sends one mail; a failure is logged and reported as false, never thrown to the request. */
  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) {
      this.logger.warn(`SMTP_URL is not set: mail "${mail.subject}" was not sent`);
      return false;
    }
    try {
      await this.transport.sendMail({ from: this.config.mail.from, ...mail });
      return true;
    } catch (error) {
      this.metrics?.mailFailed();
      this.logger.error(
        `mail "${mail.subject}" could not be sent: ${error instanceof Error ? error.message : String(error)}`,
      );
      return false;
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
