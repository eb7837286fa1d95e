// Where the API Lambda's viewer-token secret comes from (lambdas/viewer-token.ts
// viewerTokenSecretFromEnv): VIEWER_TOKEN_SECRET itself (the local stack's), or the Secrets Manager
// secret VIEWER_TOKEN_SECRET_ARN names, read through a source that keeps it SECRET_MAX_AGE_SECONDS —
// Powertools Parameters' SecretsProvider here, over a stand-in Secrets Manager client.
import { describe, expect, it } from '@jest/globals';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../lambdas/config.ts';
import {
  MIN_SECRET_LENGTH,
  SECRET_MAX_AGE_SECONDS,
  viewerTokenSecretFromEnv,
  type SecretSource,
} from '../../lambdas/viewer-token.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:viewer-token-AbCdEf';
const SECRET = 's'.repeat(MIN_SECRET_LENGTH);

/** Powertools' provider over a client that answers `answers` in turn (an Error is thrown). */
function powertools(answers: Array<string | Error>) {
  const reads: string[] = [];
  const client = {
    config: {},
    middlewareStack: { addRelativeTo: () => undefined, identify: () => [] },
    async send(command: { input: { SecretId: string } }) {
      reads.push(command.input.SecretId);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return { SecretString: answer };
    },
  } as unknown as SecretsManagerClient;
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  const source: SecretSource = (arn, options) => provider.get(arn, options);
  return { source, reads };
}

describe('viewerTokenSecretFromEnv', () => {
  it('reads the secret once and keeps it: a second request makes no Secrets Manager call', async () => {
    const { source, reads } = powertools([SECRET]);
    const secret = viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET_ARN: ARN }, source);
    expect(await secret()).toBe(SECRET);
    expect(await secret()).toBe(SECRET);
    expect(reads).toEqual([ARN]);
  });

  it(`asks its source to keep the secret ${SECRET_MAX_AGE_SECONDS} s, no longer`, async () => {
    const asked: Array<{ maxAge: number }> = [];
    const secret = viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET_ARN: ARN }, async (arn, options) => {
      asked.push(options);
      return SECRET;
    });
    await secret();
    expect(asked).toEqual([{ maxAge: SECRET_MAX_AGE_SECONDS }]);
  });

  it('keeps no failed read: the next request reads again', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { source, reads } = powertools([throttled, SECRET]);
    const secret = viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET_ARN: ARN }, source);
    await expect(secret()).rejects.toThrow();
    expect(await secret()).toBe(SECRET);
    expect(reads).toEqual([ARN, ARN]);
  });

  it('refuses a secret too short to sign with, naming the variable', async () => {
    const { source } = powertools(['short']);
    const secret = viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET_ARN: ARN }, source);
    await expect(secret()).rejects.toThrow(ConfigError);
    await expect(
      viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET_ARN: ARN }, async () => undefined)(),
    ).rejects.toThrow(/^VIEWER_TOKEN_SECRET_ARN: /);
  });

  it('takes VIEWER_TOKEN_SECRET itself without any source, and checks it at once', async () => {
    const never: SecretSource = () => Promise.reject(new Error('no Secrets Manager here'));
    expect(await viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET: SECRET }, never)()).toBe(SECRET);
    expect(() => viewerTokenSecretFromEnv({ VIEWER_TOKEN_SECRET: 'short' }, never)).toThrow(
      /^VIEWER_TOKEN_SECRET: expected at least/,
    );
    expect(() => viewerTokenSecretFromEnv({}, never)).toThrow(
      /^VIEWER_TOKEN_SECRET_ARN: environment variable is required/,
    );
  });
});
