import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { redact } from '../bitrix24/redact.js';
import { AWAITING_CREDENTIALS_METRIC, METRICS_NAMESPACE } from './metric-names.js';

/** The narrow logger the core and the Bitrix24 client accept. */
export interface AppLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The handlers' logger: its lines carry the invocation's Lambda context and the work item in hand. */
export interface HandlerLogger extends AppLogger {
  /**
   * Every line until the next call carries this invocation's context (`function_request_id`,
   * `cold_start`, `function_name`, `function_arn`, `function_memory_size`).
   */
  addContext(context: Context): void;
  /** Every line until `resetKeys` carries these keys. */
  appendKeys(keys: Readonly<Record<string, string | number>>): void;
  resetKeys(): void;
}

/**
 * Structured JSON logs (Powertools; in Lambda each line also carries `xray_trace_id`). Every
 * string is passed through the Bitrix24 redactor on its way out: the client already never puts
 * secrets into messages, this is the second line of defence (docs/design.md, guarantee 7).
 */
export function createLogger(serviceName: string): HandlerLogger {
  const logger = new Logger({
    serviceName,
    jsonReplacerFn: (_key, value) => (typeof value === 'string' ? redact(value) : value),
  });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, extra?: Record<string, unknown>) =>
      extra ? logger[level](message, extra as LogAttributes) : logger[level](message);
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    addContext: (context) => logger.addContext(context),
    appendKeys: (keys) => logger.appendKeys(keys),
    resetKeys: () => logger.resetKeys(),
  };
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/**
 * Dimensions for the metrics added next, until `publishStoredMetrics`: `service` + `portal`, and a
 * second set of `service` alone (Powertools projects the default dimension onto an empty set),
 * which the alarms covering all portals read (metric-names.ts).
 */
export function addPortalDimensions(metrics: Metrics, portalId: string): void {
  metrics.addDimension('portal', portalId);
  metrics.addDimensions({});
}

/** One `AwaitingCredentials` count for the portal, published at once. */
export function countAwaitingCredentials(metrics: Metrics, portalId: string): void {
  addPortalDimensions(metrics, portalId);
  metrics.addMetric(AWAITING_CREDENTIALS_METRIC, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/** A logger that drops everything (tests, and the CLI when stdout carries the events). */
export const silentLogger: AppLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
