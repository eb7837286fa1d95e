// doctor: the region and the SDK clients it reads the account with (the default credential chain, and
// AWS_ENDPOINT_URL, AWS_PROFILE… as every SDK client reads them).
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IvsClient } from '@aws-sdk/client-ivs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SSMClient } from '@aws-sdk/client-ssm';
import { TargetError } from '../errors.ts';
import type { DoctorClients } from './facts.ts';

/** What every client gets: the region, and anything a test adds (endpoint, credentials). */
export interface DoctorClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
}

/**
 * The client settings the environment gives (AWS_ENDPOINT_URL, and keys when both are set); anything
 * else — a profile, SSO, instance roles — is left to the SDK's default credential chain.
 */
export function doctorClientConfig(region: string, env: NodeJS.ProcessEnv): DoctorClientConfig {
  const config: DoctorClientConfig = { region };
  const endpoint = env.AWS_ENDPOINT_URL?.trim();
  if (endpoint) config.endpoint = endpoint;
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  if (accessKeyId && secretAccessKey)
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  return config;
}

/**
 * The region: --region, else AWS_REGION or AWS_DEFAULT_REGION, else the profile's (~/.aws/config),
 * as the SDK finds it. None at all is a TargetError that says where to set one.
 */
export async function resolveRegion(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const named = flag ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined);
  if (named) return named;
  const probe = new LambdaClient({});
  try {
    return await probe.config.region();
  } catch {
    throw new TargetError(
      'no AWS region: pass --region REGION (eu-west-1…), or set AWS_REGION (or a region in your AWS profile)',
    );
  } finally {
    probe.destroy();
  }
}

export function createDoctorClients(config: DoctorClientConfig): DoctorClients & { destroy(): void } {
  const clients = {
    lambda: new LambdaClient(config),
    apiGateway: new APIGatewayClient(config),
    dynamoDb: new DynamoDBClient(config),
    serviceQuotas: new ServiceQuotasClient(config),
    ssm: new SSMClient(config),
    ivs: new IvsClient(config),
    cloudFormation: new CloudFormationClient(config),
    // CloudFront is global: its API lives in us-east-1 whatever the stack's region.
    cloudFront: new CloudFrontClient({ ...config, region: 'us-east-1' }),
  };
  return {
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
