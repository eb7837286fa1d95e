// Lambda configuration, read from an environment once per cold start and checked, so a
// misconfigured deployment fails at init with the variable's name instead of on a request. The
// environment is a parameter: the Lambda entry files pass their own, the local stack and the tests
// pass an object of theirs.
import { MAX_TOKEN_WORK_BITS } from '../contract/api.ts';
import { LAMBDA_ENV, type LambdaEnvName } from '../contract/lambda-env.ts';

/** Environment variables by name, as a Lambda sees them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The CloudWatch namespace of the Lambdas' metrics where nothing names another: the local stack's.
 * A deployed stack has its own (metricsNamespaceFor), so two stacks in one account and Region never
 * add up each other's votes.
 */
export const METRICS_NAMESPACE = 'showrunner';

/**
 * A stack's metrics namespace: the CDK stack passes it to its Lambdas as POWERTOOLS_METRICS_NAMESPACE
 * and counts its log metric filters into it (cdk/lib/monitoring.ts), so its alarms and its Lambdas'
 * metrics are in one place.
 */
export function metricsNamespaceFor(stackName: string): string {
  return `${METRICS_NAMESPACE}/${stackName}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function getStringFromEnv(env: Env, name: LambdaEnvName, fallback?: string): string {
  const value = env[name]?.trim();
  if (value) return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name}: environment variable is required`);
}

export function getIntFromEnv(
  env: Env,
  name: LambdaEnvName,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}: expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** CORS_ORIGINS: comma-separated origins ("https://example.com,http://127.0.0.1:3000") or "*". */
export function getOriginsFromEnv(env: Env, name: LambdaEnvName): string[] {
  const raw = getStringFromEnv(env, name, '*');
  const origins = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`${name}: "${origin}" is not an origin (scheme://host[:port], no path)`);
    }
  }
  return origins;
}

/**
 * POLL_CACHE_MS: how long the API Lambda keeps a poll item (lambdas/api.ts PollCache). The
 * lifecycle Lambda reads it too: a poll ended early is recounted only once every cached copy
 * of its old closes_at has expired.
 */
export function getPollCacheMsFromEnv(env: Env): number {
  return getIntFromEnv(env, LAMBDA_ENV.POLL_CACHE_MS, 1000, 0, 60_000);
}

/** MAX_BODY_BYTES: the largest request body the API Lambda accepts (the local API Gateway reads no more). */
export function getMaxBodyBytesFromEnv(env: Env): number {
  return getIntFromEnv(env, LAMBDA_ENV.MAX_BODY_BYTES, 4096, 256, 1_048_576);
}

/**
 * The work a new viewer identity costs by default (TOKEN_WORK_BITS): SHA-256 hashes until one starts
 * with this many zero bits, 2^17 = 131,072 on average. Measured with bench/token-work.ts in Chromium
 * on a busy 2-core Xeon: median 0.14 s (mean 0.22 s) per identity; with the CPU slowed 4× as for a
 * mid-range phone, median 0.56 s (mean 0.85 s, p95 2.7 s). A native script pays the same hashes:
 * some 20–30 identities per second per core.
 */
export const DEFAULT_TOKEN_WORK_BITS = 17;

/**
 * TOKEN_WORK_BITS: the proof of work POST /requestor-token asks for (contract/api.ts TokenChallenge),
 * 0 (none: any nonce answers) to MAX_TOKEN_WORK_BITS; DEFAULT_TOKEN_WORK_BITS when unset.
 */
export function getTokenWorkBitsFromEnv(env: Env): number {
  return getIntFromEnv(env, LAMBDA_ENV.TOKEN_WORK_BITS, DEFAULT_TOKEN_WORK_BITS, 0, MAX_TOKEN_WORK_BITS);
}
