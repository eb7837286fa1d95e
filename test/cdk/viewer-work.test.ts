// Identities that cost something, in the cloud stack: the API Lambda is deployed with the proof of
// work on (TOKEN_WORK_BITS, lambdas/viewer-token.ts), and the setting it gets is one its own config
// check accepts. Checked on the synthesized template.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { apiConfigFromEnv } from '../../lambdas/api.ts';
import { DEFAULT_TOKEN_WORK_BITS } from '../../lambdas/config.ts';
import { onlyResource, removeTempDirs, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

let created: Synth;
beforeAll(() => {
  created = synth();
});

describe('viewer identities cost work', () => {
  it('"On by default": the API Lambda gets TOKEN_WORK_BITS = DEFAULT_TOKEN_WORK_BITS (17), which its config reads back', () => {
    const api = onlyResource(created.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('viewer REST API'),
    })[1];
    const variables = api.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables['TOKEN_WORK_BITS']).toBe(String(DEFAULT_TOKEN_WORK_BITS));
    expect(DEFAULT_TOKEN_WORK_BITS).toBe(17);
    expect(
      apiConfigFromEnv({ TABLE_NAME: 't', TOKEN_WORK_BITS: variables['TOKEN_WORK_BITS'] as string })
        .tokenWorkBits,
    ).toBe(17);
  });
});
