// The Lambdas' environment variables by name: the CDK stack sets them (cdk/lib/), the Lambdas read
// them (lambdas/), the local stack passes a user's own (local/server.ts). One spelling for all three,
// so a renamed variable cannot leave a deployed Lambda on its default.

export const LAMBDA_ENV = {
  /** The DynamoDB table (every Lambda). */
  TABLE_NAME: 'TABLE_NAME',
  /** The origins the API allows, comma-separated or "*" (API and producer Lambdas). */
  CORS_ORIGINS: 'CORS_ORIGINS',
  /** How long the API Lambda keeps a poll item, in ms; the lifecycle Lambda waits it out before a recount. */
  POLL_CACHE_MS: 'POLL_CACHE_MS',
  /** The Secrets Manager secret that signs viewer tokens (API Lambda). */
  VIEWER_TOKEN_SECRET_ARN: 'VIEWER_TOKEN_SECRET_ARN',
  /** The viewer-token signing key itself, instead of the ARN (local stack and tests; never set by the stack). */
  VIEWER_TOKEN_SECRET: 'VIEWER_TOKEN_SECRET',
  /** The proof of work a new viewer identity costs, in leading zero bits (API Lambda). */
  TOKEN_WORK_BITS: 'TOKEN_WORK_BITS',
  /** The largest request body the API Lambda accepts, in bytes (not set by the stack: its default). */
  MAX_BODY_BYTES: 'MAX_BODY_BYTES',
  /** The channels the lifecycle Lambda may cue, comma-separated: the stack's and extraChannelArns. */
  CUE_CHANNEL_ARNS: 'CUE_CHANNEL_ARNS',
  /** The shard partitions a poll's votes are spread over (lifecycle Lambda). */
  VOTE_SHARDS: 'VOTE_SHARDS',
  /** How long close waits for votes in flight before the recount, in ms (not set by the stack: its default). */
  VOTE_SETTLE_MS: 'VOTE_SETTLE_MS',
  /** The show state machine the producer Lambda starts, stops and reads. */
  STATE_MACHINE_ARN: 'STATE_MACHINE_ARN',
  /**
   * The stack's IVS channel: a run's default channel (producer Lambda); the channel whose live run
   * locks viewers' nicknames once it closed a quiz question (API Lambda).
   */
  CHANNEL_ARN: 'CHANNEL_ARN',
  /** Node's flags: the stack sets --enable-source-maps, so stack traces name the bundle's sources. */
  NODE_OPTIONS: 'NODE_OPTIONS',
  /** "false" keeps the Powertools Tracer unloaded (the stack's `-c tracing=false`). */
  POWERTOOLS_TRACE_ENABLED: 'POWERTOOLS_TRACE_ENABLED',
  /** The CloudWatch namespace of the Lambdas' metrics: the stack's own, as its alarms count into. */
  POWERTOOLS_METRICS_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** The service name on logs, traces and metrics (not set by the stack: each handler names its own). */
  POWERTOOLS_SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
  /** "true" turns the metrics off where POWERTOOLS_METRICS_DISABLED is unset (not set by the stack). */
  POWERTOOLS_DEV: 'POWERTOOLS_DEV',
  /** "true" turns the metrics off (not set by the stack). */
  POWERTOOLS_METRICS_DISABLED: 'POWERTOOLS_METRICS_DISABLED',
  /** The log level, Powertools' name; wins over LOG_LEVEL (not set by the stack). */
  POWERTOOLS_LOG_LEVEL: 'POWERTOOLS_LOG_LEVEL',
  /** The log level, TRACE to SILENT (not set by the stack: INFO). */
  LOG_LEVEL: 'LOG_LEVEL',
} as const;

export type LambdaEnvName = (typeof LAMBDA_ENV)[keyof typeof LAMBDA_ENV];
