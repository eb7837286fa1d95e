// Logs, metrics and traces of the Lambdas: Powertools for AWS Lambda (TypeScript) Logger, Metrics
// and Tracer, built once per cold start by createObservability from the environment its entry file
// passes in, and run as Middy middleware. Nothing here runs at import.
//
// - Logs: one JSON line per entry (Powertools Logger) with the Lambda context (function, request
//   id, cold start, X-Ray trace id) and, once appendPollKeys is called, the poll and run ids; those
//   are dropped again when the invocation ends.
// - Metrics: CloudWatch embedded metric format (EMF), JSON lines on stdout that CloudWatch Logs
//   turns into metrics; no API call. Locally the same lines are printed.
// - Traces: X-Ray, in Lambda only. Outside Lambda there is no tracer at all: aws-xray-sdk-core
//   turns on a process-wide async hook as soon as it is imported (cls-hooked), which makes every
//   promise of the process much slower (about 13× in a promise-bound loop here), so it is imported
//   only when tracing is on.
//
// Powertools reads a few variables of the Lambda runtime from process.env itself (AWS_REGION,
// AWS_LAMBDA_LOG_LEVEL, _X_AMZN_TRACE_ID, POWERTOOLS_DEV…); our settings it gets as constructor
// options read from `env` here, so the local stack can pass its own.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import {
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import type middy from '@middy/core';
import type { ApiErrorCode } from '../contract/api.ts';
import { LAMBDA_ENV, type LambdaEnvName } from '../contract/lambda-env.ts';
import { splitPollId } from '../core/ids.ts';
import { ConfigError, METRICS_NAMESPACE, getStringFromEnv, type Env } from './config.ts';

/** The CloudWatch namespace of every metric, unless POWERTOOLS_METRICS_NAMESPACE names another (a deployed stack does). */
export { METRICS_NAMESPACE };

/** The custom metrics, by the helper that emits them. */
export const METRIC = {
  voteAccepted: 'VotesAccepted',
  voteRefused: 'VotesRefused',
  voteThrottled: 'VotesThrottled',
  lifecycleTiming: 'LifecycleDuration',
  tallyCuesSent: 'TallyCuesSent',
  tallyCuesSkipped: 'TallyCuesSkipped',
} as const;

/** The lifecycle Lambda's actions (lambdas/poll-lifecycle.ts; endRun also for the EventBridge end-of-run event). */
export type LifecycleAction = 'plan' | 'open' | 'tally' | 'close' | 'endRun' | 'release';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** Powertools' boolean spellings (POWERTOOLS_DEV, POWERTOOLS_METRICS_DISABLED). */
const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);

/** What createObservability reads from its environment, checked once. */
export interface ObservabilityConfig {
  /** POWERTOOLS_SERVICE_NAME, else the entry's own name: the `service` key of logs and dimension of metrics. */
  serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE, else METRICS_NAMESPACE. */
  namespace: string;
  /** POWERTOOLS_LOG_LEVEL, else LOG_LEVEL, else INFO. (In Lambda, AWS_LAMBDA_LOG_LEVEL wins, as Powertools wants.) */
  logLevel: LogLevel;
  /** Off with POWERTOOLS_METRICS_DISABLED=true, or with POWERTOOLS_DEV=true when that is not set (Powertools' rule). */
  metricsEnabled: boolean;
  /** In Lambda (AWS_EXECUTION_ENV set, not SAM local) unless POWERTOOLS_TRACE_ENABLED=false (Powertools' rule). */
  tracingEnabled: boolean;
}

export function observabilityConfigFromEnv(env: Env, serviceName: string): ObservabilityConfig {
  const rawLevel = getStringFromEnv(
    env,
    LAMBDA_ENV.POWERTOOLS_LOG_LEVEL,
    getStringFromEnv(env, LAMBDA_ENV.LOG_LEVEL, 'INFO'),
  );
  const logLevel = rawLevel.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${rawLevel}"`);
  }
  const flag = (name: LambdaEnvName) => TRUTHY.has(env[name]?.trim().toLowerCase() ?? '');
  const metricsSwitch = env[LAMBDA_ENV.POWERTOOLS_METRICS_DISABLED]?.trim();
  return {
    serviceName: getStringFromEnv(env, LAMBDA_ENV.POWERTOOLS_SERVICE_NAME, serviceName),
    namespace: getStringFromEnv(env, LAMBDA_ENV.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE),
    logLevel,
    metricsEnabled: !(metricsSwitch
      ? flag(LAMBDA_ENV.POWERTOOLS_METRICS_DISABLED)
      : flag(LAMBDA_ENV.POWERTOOLS_DEV)),
    tracingEnabled:
      Boolean(env.AWS_EXECUTION_ENV?.trim()) &&
      !env.AWS_SAM_LOCAL?.trim() &&
      env[LAMBDA_ENV.POWERTOOLS_TRACE_ENABLED]?.trim().toLowerCase() !== 'false',
  };
}

export interface Observability {
  readonly config: ObservabilityConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Only in Lambda with tracing on; undefined elsewhere (see the top of this file). */
  readonly tracer: Tracer | undefined;
  /**
   * For `.use()` first on the handler, so that they wrap everything else: the tracer's subsegment
   * opens first and closes last, the logger's context is there for every other middleware, and the
   * metrics are flushed after every other `after` and `onError` has run (Middy runs those in
   * reverse). Tracer, logger, metrics: the order of Powertools' examples.
   */
  readonly middlewares: middy.MiddlewareObj[];
  /**
   * Adds the poll id and its run id (from "<runId>:<pollId>"), or a run id alone, to every log line
   * of this invocation (cleared when it ends) and, with tracing on, as X-Ray annotations.
   */
  appendPollKeys(ids: { pollId?: string | undefined; runId?: string | undefined }): void;
  /** POST /requestor-put answered 201. */
  voteAccepted(pollId: string): void;
  /** POST /requestor-put refused with a 4xx: `reason` is the API error code. The poll id is unknown when the body was not read. */
  voteRefused(pollId: string | undefined, reason: ApiErrorCode): void;
  /** POST /requestor-put failed because DynamoDB throttled it after the SDK's retries (see isThrottled). */
  voteThrottled(pollId: string | undefined): void;
  /** How long a lifecycle action took, in milliseconds. */
  lifecycleTiming(action: LifecycleAction, ms: number): void;
  /** Tally cues one tally slice sent (PutMetadata accepted). */
  tallyCuesSent(pollId: string, n: number): void;
  /** Tally cues one tally slice skipped because PutMetadata refused them (throttled, not broadcasting…). */
  tallyCuesSkipped(pollId: string, n: number): void;
}

export interface ObservabilityOptions {
  /** The entry's name, e.g. `showrunner-api`; POWERTOOLS_SERVICE_NAME overrides it. */
  serviceName: string;
  /** The Lambda's environment: the entry file passes process.env, the local stack its own. */
  env: Env;
}

/**
 * The logger, metrics, tracer and middlewares of one Lambda, from its environment. Asynchronous
 * because the tracer is imported only when tracing is on.
 */
export async function createObservability({
  serviceName,
  env,
}: ObservabilityOptions): Promise<Observability> {
  const config = observabilityConfigFromEnv(env, serviceName);
  const logger = new Logger({ serviceName: config.serviceName, logLevel: config.logLevel });
  // Its own warnings (a bad dimension…) as structured log lines rather than bare console text.
  const metrics = new Metrics({ namespace: config.namespace, serviceName: config.serviceName, logger });

  let tracer: Tracer | undefined;
  const middlewares: middy.MiddlewareObj[] = [];
  if (config.tracingEnabled) {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    tracer = new Tracer({ serviceName: config.serviceName });
    // No response bodies in the trace: votes carry viewer ids, and a segment is limited to 64 KB.
    middlewares.push(captureLambdaHandler(tracer, { captureResponse: false }));
  }
  middlewares.push(injectLambdaContext(logger, { resetKeys: true }));
  if (config.metricsEnabled) middlewares.push(publishMetrics(metrics));

  // Dimensions: each distinct set of dimension values is a custom metric of its own, billed
  // monthly, so they are only ever low-cardinality: `service` (every metric), `reason` (one of the
  // API's error codes) and `action` (the lifecycle action). The poll and run ids would make a
  // new metric per poll: they go into the EMF record as metadata instead, which CloudWatch keeps in
  // the log line (Logs Insights finds every vote metric of a poll) without making it a metric.
  // Dimensions belong to the whole record of an invocation: an API invocation records one vote
  // outcome, a lifecycle invocation one action (its tally cue counts carry action=tally).
  const count = (name: string, pollId: string | undefined, value = 1) => {
    if (!config.metricsEnabled) return;
    if (pollId !== undefined) {
      metrics.addMetadata('pollId', pollId);
      const runId = splitPollId(pollId)?.runId;
      if (runId) metrics.addMetadata('runId', runId);
    }
    metrics.addMetric(name, MetricUnit.Count, value);
  };

  return {
    config,
    logger,
    metrics,
    tracer,
    middlewares,
    appendPollKeys({ pollId, runId = pollId === undefined ? undefined : splitPollId(pollId)?.runId }) {
      const keys = { ...(pollId !== undefined && { pollId }), ...(runId !== undefined && { runId }) };
      logger.appendKeys(keys);
      for (const [key, value] of Object.entries(keys)) tracer?.putAnnotation(key, value);
    },
    voteAccepted: (pollId) => count(METRIC.voteAccepted, pollId),
    voteRefused(pollId, reason) {
      if (config.metricsEnabled) metrics.addDimension('reason', reason);
      count(METRIC.voteRefused, pollId);
    },
    voteThrottled: (pollId) => count(METRIC.voteThrottled, pollId),
    lifecycleTiming(action, ms) {
      if (!config.metricsEnabled) return;
      metrics.addDimension('action', action);
      metrics.addMetric(METRIC.lifecycleTiming, MetricUnit.Milliseconds, Math.max(0, ms));
    },
    tallyCuesSent: (pollId, n) => count(METRIC.tallyCuesSent, pollId, n),
    tallyCuesSkipped: (pollId, n) => count(METRIC.tallyCuesSkipped, pollId, n),
  };
}

/**
 * Powertools' logMetrics, without its one drawback here: it publishes after every invocation, and
 * one that recorded no metric (every GET of the API) logs the warning "No application metrics to
 * publish" — a log line per request (aws-powertools/powertools-lambda-typescript#2036). This
 * publishes only what was recorded (hasStoredMetrics), and still counts cold starts like its
 * `captureColdStartMetric: true` (an EMF line of its own, with a function_name dimension; in Lambda
 * only, where AWS_LAMBDA_INITIALIZATION_TYPE says what a cold start is).
 */
function publishMetrics(metrics: Metrics): middy.MiddlewareObj {
  const publish = () => {
    if (metrics.hasStoredMetrics()) {
      metrics.publishStoredMetrics();
    } else {
      metrics.clearDimensions();
      metrics.clearMetadata();
    }
  };
  return {
    before: (request) => {
      metrics.captureColdStartMetric(request.context.functionName);
    },
    after: publish,
    onError: publish,
  };
}

/**
 * Whether an AWS SDK error is a throttle: one of DynamoDB's throttling errors, as the SDK throws them
 * once its retries are spent, or an error the SDK classified as a throttle for its retries.
 */
export function isThrottled(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  return (
    error instanceof ProvisionedThroughputExceededException ||
    error instanceof RequestLimitExceeded ||
    error instanceof ThrottlingException ||
    (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling === true
  );
}
