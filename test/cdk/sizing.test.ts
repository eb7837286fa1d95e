// A stack sized for a show: the sizing rules of core/sizing.ts, what the synthesized template
// sets for the default audience (deployable on a brand-new account) and for a large one, how a bad
// `audience` fails synth, and that the README's table is what the code computes.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { propsFromContext } from '../../cdk/bin/showrunner.ts';
import { REPO_ROOT } from '../../cdk/lib/paths.ts';
import { ConfigurationError } from '../../cdk/lib/showrunner-stack.ts';
import { voteShardsFor } from '../../contract/table.ts';
import {
  ASSUMPTIONS,
  AWS_LIMITS,
  DEFAULT_AUDIENCE,
  MAX_AUDIENCE,
  MIN_AUDIENCE,
  fmt,
  largestAudienceWithin,
  largestAudienceWithinDefaultQuotas,
  largestAudienceWithoutReservedConcurrency,
  largestAudienceWithoutWarmThroughput,
  parseAudience,
  sizeFor,
  sizingTable,
  type Sizing,
} from '../../core/sizing.ts';
import { onlyResource, removeTempDirs, synth, type Synth } from './support.ts';

afterAll(removeTempDirs);

/** Audiences across the whole range, small to huge, including the edges of the floors. */
const AUDIENCES = [
  MIN_AUDIENCE,
  101,
  999,
  1_000,
  7_777,
  10_000,
  33_333,
  51_533,
  51_534,
  100_000,
  250_000,
  1_000_000,
  MAX_AUDIENCE,
];
const all = () => AUDIENCES.map(sizeFor);

/** True when a stack sized so runs on AWS's default quotas (checked against AWS_LIMITS itself). */
function fitsDefaults(s: Sizing): boolean {
  const L = AWS_LIMITS;
  const reserved = s.apiReservedConcurrency + s.lifecycleReservedConcurrency;
  return (
    s.stageRateLimit <= L.apiGatewayAccountRequestsPerSecond &&
    s.stageBurstLimit <= L.apiGatewayAccountBurst &&
    // Both Lambdas' concurrency, and, when reserved, the 100 Lambda keeps unreserved beside it.
    s.apiConcurrency + s.lifecycleConcurrency + (reserved > 0 ? L.lambdaMinUnreservedConcurrency : 0) <=
      L.lambdaAccountConcurrency &&
    (s.tableWarmThroughput?.writeUnitsPerSecond ?? 0) <= L.dynamoDbTableQuotaWriteUnits &&
    (s.tableWarmThroughput?.readUnitsPerSecond ?? 0) <= L.dynamoDbTableQuotaReadUnits &&
    (s.indexWarmThroughput?.writeUnitsPerSecond ?? 0) <= L.dynamoDbTableQuotaWriteUnits
  );
}

describe('sizing rules (core/sizing.ts)', () => {
  it('"The storm": 100,000 viewers, 60 % answering within 8 s, make 7,500 votes/s on average and peaks of 15,000/s', () => {
    const s = sizeFor(100_000);
    expect(s.averageVotesPerSecond).toBe(7_500);
    expect(s.peakVotesPerSecond).toBe(15_000);
    // Votes dominate the peak; joins and /poll-get add the rest (no per-viewer polling).
    expect(s.peakRequestsPerSecond).toBeGreaterThan(s.peakVotesPerSecond);
    expect(s.peakRequestsPerSecond).toBeLessThan(s.peakVotesPerSecond * 1.1);
  });

  it('"GET /poll-get through CloudFront": the API sees at most one request per poll per second per edge location (600 edge locations, 2 polls in view), never more than viewers ask', () => {
    expect(ASSUMPTIONS).toMatchObject({ cdnEdgeLocations: 600, pollsViewedAtOnce: 2 });
    for (const s of all()) {
      expect(s.pollGetsPerSecond).toBeCloseTo(s.audience * ASSUMPTIONS.pollGetsPerViewerPerSecond);
      expect(s.pollGetOriginRequestsPerSecond).toBeLessThanOrEqual(s.pollGetsPerSecond);
      expect(s.pollGetOriginRequestsPerSecond).toBeLessThanOrEqual(1_200);
    }
    // 100,000 viewers ask 500/s: fewer than the edge locations could forward, so all may reach the API.
    expect(sizeFor(100_000).pollGetOriginRequestsPerSecond).toBe(500);
    // 1,000,000 ask 5,000/s, of which the API sees at most 1,200.
    const huge = sizeFor(1_000_000);
    expect(huge.pollGetsPerSecond).toBe(5_000);
    expect(huge.pollGetOriginRequestsPerSecond).toBe(1_200);
    const joins = 1_000_000 / ASSUMPTIONS.joinWindowSeconds;
    expect(huge.peakRequestsPerSecond).toBe(Math.ceil(150_000 + joins * 2 + 1_200));
  });

  it('"The stage admits the peak with headroom": stage rate ≥ peak requests/s × 1.2, burst half the rate', () => {
    for (const s of all()) {
      expect(s.stageRateLimit).toBeGreaterThanOrEqual(s.peakRequestsPerSecond * ASSUMPTIONS.requestHeadroom);
      expect(s.stageRateLimit % 100).toBe(0);
      expect(s.stageBurstLimit).toBeGreaterThanOrEqual(s.stageRateLimit / 2);
      expect(s.stageBurstLimit).toBeLessThanOrEqual(Math.max(s.stageRateLimit / 2 + 100, 100));
    }
  });

  it('"Nothing behind the stage gives way before it": API Lambda concurrency ≥ stage rate × vote p99 (× 1.5), table writes ≥ stage rate × 3 units (a quiz vote: answer, shard counter, score), index writes ≥ stage rate', () => {
    for (const s of all()) {
      expect(s.apiConcurrency).toBeGreaterThanOrEqual(
        s.stageRateLimit * ASSUMPTIONS.voteP99Seconds * ASSUMPTIONS.concurrencyHeadroom,
      );
      expect(s.tableWriteUnitsPerSecond).toBe(s.stageRateLimit * 3);
      const tableWrites =
        s.tableWarmThroughput?.writeUnitsPerSecond ?? AWS_LIMITS.dynamoDbNewTableWarmWriteUnits;
      expect(tableWrites).toBeGreaterThanOrEqual(s.stageRateLimit * 3);
      const indexWrites =
        s.indexWarmThroughput?.writeUnitsPerSecond ?? AWS_LIMITS.dynamoDbNewTableWarmWriteUnits;
      expect(indexWrites).toBeGreaterThanOrEqual(s.stageRateLimit);
      const reads = s.tableWarmThroughput?.readUnitsPerSecond ?? AWS_LIMITS.dynamoDbNewTableWarmReadUnits;
      expect(reads).toBeGreaterThanOrEqual(s.tableReadUnitsPerSecond);
    }
  });

  it('"A storm cannot starve the show": the lifecycle Lambda has its own 12 (3 shows × (tally loop + close + next open + a retry)), whatever the audience, reserved with the API\'s where the stack reserves, and the account then keeps 100 unreserved', () => {
    expect(ASSUMPTIONS).toMatchObject({
      lifecycleInvocationsPerShow: 3,
      lifecycleRetryInvocations: 1,
      concurrentShows: 3,
    });
    for (const s of all()) {
      expect(s.lifecycleConcurrency).toBe(12);
      if (s.reservesConcurrency) {
        expect([s.apiReservedConcurrency, s.lifecycleReservedConcurrency]).toEqual([s.apiConcurrency, 12]);
        expect(s.accountConcurrencyNeeded).toBe(s.apiConcurrency + 12 + 100);
      } else {
        expect([s.apiReservedConcurrency, s.lifecycleReservedConcurrency]).toEqual([0, 0]);
        expect(s.accountConcurrencyNeeded).toBe(s.apiConcurrency + 12);
      }
    }
  });

  it('"Reserve only where the audience needs a Lambda quota raise anyway": reservations ⇔ the Lambda raise ⇔ both Lambdas + 100 over AWS\'s default 1,000; none up to 60,813 viewers', () => {
    for (const s of all()) {
      const overDefault =
        s.apiConcurrency + s.lifecycleConcurrency + AWS_LIMITS.lambdaMinUnreservedConcurrency >
        AWS_LIMITS.lambdaAccountConcurrency;
      expect(s.reservesConcurrency).toBe(overDefault);
      expect(s.quotaRaises.some((q) => q.name === 'Lambda')).toBe(s.reservesConcurrency);
    }
    const largest = largestAudienceWithoutReservedConcurrency();
    expect(largest).toBe(60_813);
    expect(sizeFor(largest).reservesConcurrency).toBe(false);
    expect(sizeFor(largest + 1).reservesConcurrency).toBe(true);
    // Without reservations the default 1,000 still leaves the rest of the account 100 or more.
    expect(sizeFor(largest).accountConcurrencyNeeded).toBeLessThanOrEqual(
      AWS_LIMITS.lambdaAccountConcurrency - AWS_LIMITS.lambdaMinUnreservedConcurrency,
    );
  });

  it('"The default deploys on a brand-new account": 1,000 viewers, nothing reserved, nothing pre-warmed, no quota raise; 32 concurrent executions at the planned peak (9 API environments busy)', () => {
    expect(DEFAULT_AUDIENCE).toBe(1_000);
    const s = sizeFor(DEFAULT_AUDIENCE);
    expect(s).toMatchObject({
      stageRateLimit: 200,
      stageBurstLimit: 100,
      apiConcurrency: 20,
      lifecycleConcurrency: 12,
      reservesConcurrency: false,
      apiReservedConcurrency: 0,
      lifecycleReservedConcurrency: 0,
      accountConcurrencyNeeded: 32,
      peakApiEnvironments: 9,
      tableWarmThroughput: undefined,
      indexWarmThroughput: undefined,
      voteShards: 1,
      quotaRaises: [],
      designLimits: [],
    });
    // 10,000 would need 162: sixteen times a brand-new account's 10.
    expect(sizeFor(10_000).accountConcurrencyNeeded).toBe(162);
  });

  it('"No key above its partition limit": all API environments together re-read a poll item at ≤ 1,000 read units/s, with POLL_CACHE_MS inside the Lambda\'s 1–60 s', () => {
    for (const s of all()) {
      expect(s.pollCacheMs).toBeGreaterThanOrEqual(1_000);
      expect(s.pollCacheMs).toBeLessThanOrEqual(60_000);
      const pollItemReads = (s.apiConcurrency * 0.5 * 1000) / s.pollCacheMs;
      expect(pollItemReads).toBeLessThanOrEqual(
        s.pollCacheMs === 60_000 ? AWS_LIMITS.dynamoDbPartitionReadUnits : 1_000,
      );
      // Vote shards: the layout's rule (contract/table.ts), so each shard key stays under a
      // partition's 1,000 write units/s even if every request the stage admits is a vote.
      expect(s.voteShards).toBe(voteShardsFor(s.peakVotesPerSecond));
      expect(s.shardWriteUnitsPerSecond).toBeGreaterThanOrEqual((s.stageRateLimit * 2) / s.voteShards);
      if (s.audience <= largestAudienceWithin('shard-writes'))
        expect(s.shardWriteUnitsPerSecond).toBeLessThanOrEqual(AWS_LIMITS.dynamoDbPartitionWriteUnits);
      if (s.audience <= largestAudienceWithin('tally-reads'))
        expect(s.tallyItemReadUnitsPerSecond).toBeLessThanOrEqual(AWS_LIMITS.dynamoDbPartitionReadUnits);
    }
    expect(sizeFor(100_000).pollCacheMs).toBe(1_000); // the Lambda's own default
    expect(sizeFor(1_000_000).pollCacheMs).toBeGreaterThan(1_000);
  });

  it('"Pre-warm only above a new table": no warm throughput while a new on-demand table\'s 4,000 writes / 12,000 reads suffice; whole thousands above', () => {
    for (const s of all()) {
      const w = s.tableWarmThroughput;
      expect(w === undefined).toBe(
        s.tableWriteUnitsPerSecond <= 4_000 && s.tableReadUnitsPerSecond <= 12_000,
      );
      for (const units of [
        w?.writeUnitsPerSecond,
        w?.readUnitsPerSecond,
        s.indexWarmThroughput?.writeUnitsPerSecond,
      ]) {
        if (units !== undefined) expect(units % 1000).toBe(0);
      }
    }
    expect(sizeFor(6_000).tableWarmThroughput).toBeUndefined();
    expect(largestAudienceWithoutWarmThroughput()).toBe(6_693);
  });

  it('"A bigger audience never gets less": every figure grows with the audience', () => {
    const keys = [
      'stageRateLimit',
      'stageBurstLimit',
      'apiConcurrency',
      'apiReservedConcurrency',
      'accountConcurrencyNeeded',
      'tableWriteUnitsPerSecond',
      'tableReadUnitsPerSecond',
      'indexWriteUnitsPerSecond',
      'pollCacheMs',
    ] as const;
    const sized = all();
    for (let i = 1; i < sized.length; i++) {
      for (const key of keys) expect(sized[i]![key]).toBeGreaterThanOrEqual(sized[i - 1]![key]);
    }
  });

  it('"Small shows need no quota raise": up to 51,533 viewers the stack fits AWS\'s default quotas; 51,534 needs the API Gateway throttle raised', () => {
    const largest = largestAudienceWithinDefaultQuotas();
    expect(largest).toBe(51_533);
    for (const audience of [MIN_AUDIENCE, 1_000, 10_000, largest]) {
      expect(sizeFor(audience).quotaRaises).toEqual([]);
      expect(fitsDefaults(sizeFor(audience))).toBe(true);
    }
    const over = sizeFor(largest + 1);
    expect(fitsDefaults(over)).toBe(false);
    expect(over.quotaRaises.map((q) => q.name)).toEqual(['API Gateway']);
    // quotaRaises and the limits agree everywhere.
    for (const s of all()) expect(s.quotaRaises.length === 0).toBe(fitsDefaults(s));
  });

  it('"A 100,000-viewer show names its quota raises": API Gateway ≥ 19,500 requests/s and Lambda ≥ 1,575 concurrent executions, DynamoDB ≥ 59,000 table write units/s (a quiz storm: 3 units a vote)', () => {
    const s = sizeFor(100_000);
    expect(s).toMatchObject({
      stageRateLimit: 19_500,
      stageBurstLimit: 9_800,
      apiConcurrency: 1_463,
      reservesConcurrency: true,
      apiReservedConcurrency: 1_463,
      lifecycleReservedConcurrency: 12,
      accountConcurrencyNeeded: 1_575,
      pollCacheMs: 1_000,
      tableWarmThroughput: { writeUnitsPerSecond: 59_000, readUnitsPerSecond: 32_000 },
      indexWarmThroughput: { writeUnitsPerSecond: 20_000 },
      voteShards: 60,
      // From a cold start, Lambda may create the ~800 environments of the peak at once.
      peakApiEnvironments: 809,
      coldScaleUpSeconds: 0,
    });
    expect(s.quotaRaises.map((q) => [q.name, q.needed, q.defaultValue])).toEqual([
      ['API Gateway', 19_500, 10_000],
      ['Lambda', 1_575, 1_000],
      ['DynamoDB writes', 59_000, 40_000],
    ]);
  });

  it('"Limits no quota lifts are named": none for 100,000; from 123,707 viewers a cold API Lambda cannot reach the peak at once, from 258,294 the 100 vote shards are too few, from 1,139,701 the shard counters are read too often', () => {
    expect(sizeFor(100_000).designLimits).toEqual([]);
    expect(largestAudienceWithin('lambda-scaling')).toBe(123_706);
    expect(largestAudienceWithin('shard-writes')).toBe(258_293);
    // Joiners' /poll-current (not cached) is what reads the counters most once CloudFront caps /poll-get.
    expect(largestAudienceWithin('tally-reads')).toBe(1_139_700);
    const huge = sizeFor(1_000_000);
    expect(huge.designLimits.map((d) => d.name)).toEqual(['lambda-scaling', 'shard-writes']);
    expect(huge.coldScaleUpSeconds).toBe(70);
    expect(huge.voteShards).toBe(100);
    expect(sizeFor(2_000_000).designLimits.map((d) => d.name)).toContain('tally-reads');
  });

  it('reads the audience from context: absent → 1,000; digits, or thousands with "," or "_"', () => {
    expect(parseAudience(undefined)).toBe(1_000);
    expect(parseAudience('')).toBe(1_000);
    expect(parseAudience('250000')).toBe(250_000);
    expect(parseAudience(' 250,000 ')).toBe(250_000);
    expect(parseAudience('1_000_000')).toBe(1_000_000);
    expect(parseAudience(5_000)).toBe(5_000);
    expect(parseAudience(String(MIN_AUDIENCE))).toBe(MIN_AUDIENCE);
    expect(parseAudience(String(MAX_AUDIENCE))).toBe(MAX_AUDIENCE);
  });

  it('"A bad audience fails synth with the context key": not a whole number from 100 to 10,000,000', () => {
    for (const bad of [
      'lots',
      '1e5',
      '-5',
      '99',
      '100000.5',
      '1.000.000',
      '1,00,000',
      '1,000_000',
      '10000001',
      true,
      2.5,
    ]) {
      expect(() => parseAudience(bad)).toThrow(ConfigurationError);
      expect(() => parseAudience(bad)).toThrow(
        new RegExp(
          `^-c audience=${String(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected a whole number of viewers from 100 to 10,000,000 \\(default 1,000\\)$`,
        ),
      );
    }
    // Through the app's context reader, as `cdk synth -c audience=lots` reaches it.
    expect(() => propsFromContext(new App({ context: { audience: 'lots' } }))).toThrow(
      '-c audience=lots: expected a whole number',
    );
    expect(propsFromContext(new App({ context: { audience: '2,500' } })).audience).toBe(2_500);
    expect(propsFromContext(new App()).audience).toBe(1_000);
  });
});

describe('the synthesized stack', () => {
  let byDefault: Synth;
  let sized: Synth;
  beforeAll(() => {
    byDefault = synth();
    sized = synth({ audience: 100_000 });
  });

  const fn = (s: Synth, description: RegExp) =>
    onlyResource(s.template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(description.source),
    })[1].Properties;
  const infos = (s: Synth) =>
    Annotations.fromStack(s.stack)
      .findInfo('*', Match.stringLikeRegexp('Sized for'))
      .map((i) => String(i.entry.data));

  it('"With no -c flags it deploys on a brand-new account": no ReservedConcurrentExecutions on any function (a quota of 10 takes no reservation), no warm throughput on the table or its index, a 1,000-viewer stage', () => {
    expect(byDefault.stack.sizing).toEqual(sizeFor(DEFAULT_AUDIENCE));
    const functions = Object.values(byDefault.template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(4); // ours and CDK's deployment Lambda
    for (const f of functions) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const [, table] = onlyResource(byDefault.template, 'AWS::DynamoDB::Table');
    expect(table.Properties.WarmThroughput).toBeUndefined();
    expect(table.Properties.GlobalSecondaryIndexes.map((g: any) => g.WarmThroughput)).toEqual([undefined]);
    const [, stage] = onlyResource(byDefault.template, 'AWS::ApiGateway::Stage');
    const [settings] = stage.Properties.MethodSettings;
    expect([settings.ThrottlingRateLimit, settings.ThrottlingBurstLimit]).toEqual([200, 100]);
    expect(settings.ThrottlingRateLimit).toBeLessThanOrEqual(AWS_LIMITS.apiGatewayAccountRequestsPerSecond);
    expect(fn(byDefault, /REST API/).Environment.Variables.POLL_CACHE_MS).toBe('1000');
    expect(fn(byDefault, /lifecycle/).Environment.Variables.VOTE_SHARDS).toBe('1');
    expect(byDefault.template.toJSON().Outputs.Audience.Value).toBe('1000');
    expect(infos(byDefault)).toEqual([
      "Sized for 1,000 viewers: fits AWS's default quotas. No reserved concurrency: the Lambdas share the account's, and use up to 32 concurrent executions at the planned peak. No warm throughput.",
    ]);
  });

  it('"-c audience=100000 is sized as before": stage 19,500/9,800, reserved concurrency 1,463 + 12, table 59,000 W (a quiz vote writes 3 units) / 32,000 R and index 20,000 W warm, 60 shards; synth names every quota raise, with the 100 Lambda keeps unreserved', () => {
    expect(sized.stack.sizing).toEqual(sizeFor(100_000));
    const [, stage] = onlyResource(sized.template, 'AWS::ApiGateway::Stage');
    expect(stage.Properties.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 19_500,
        ThrottlingBurstLimit: 9_800,
      }),
    ]);
    const [, table] = onlyResource(sized.template, 'AWS::DynamoDB::Table');
    expect(table.Properties.WarmThroughput).toEqual({
      WriteUnitsPerSecond: 59_000,
      ReadUnitsPerSecond: 32_000,
    });
    expect(table.Properties.GlobalSecondaryIndexes.map((g: any) => g.WarmThroughput)).toEqual([
      { WriteUnitsPerSecond: 20_000 },
    ]);
    const api = fn(sized, /REST API/);
    expect(api.ReservedConcurrentExecutions).toBe(1_463);
    expect(api.Environment.Variables.POLL_CACHE_MS).toBe('1000');
    expect(fn(sized, /lifecycle/).ReservedConcurrentExecutions).toBe(12);
    expect(fn(sized, /lifecycle/).Environment.Variables.VOTE_SHARDS).toBe('60');
    // The producer API has few callers: never reserved.
    expect(fn(sized, /producer API/).ReservedConcurrentExecutions).toBeUndefined();
    expect(sized.template.toJSON().Outputs.Audience.Value).toBe('100000');
    // Synth says which quotas this needs, and warns of nothing a raise cannot fix.
    expect(infos(sized)).toEqual([
      expect.stringMatching(
        /^Sized for 100,000 viewers: needs API Gateway.* ≥ 19,500 requests\/s \(default 10,000\); Lambda: concurrent executions ≥ 1,575 concurrent executions \(default 1,000\); DynamoDB: table-level write throughput.* ≥ 59,000 write units\/s \(default 40,000\)\. Reserves 1,463 \(API\) \+ 12 \(lifecycle\) Lambda concurrent executions: the account needs 1,575, keeping the 100 Lambda leaves unreserved\. Pre-warms the table \(billed; DynamoDB never lowers it\)\.$/,
      ),
    ]);
    expect(Annotations.fromStack(sized.stack).findWarning('*', Match.stringLikeRegexp('Sized for'))).toEqual(
      [],
    );
  });

  it('"Limits no quota lifts are said at synth": a 1,000,000-viewer stack synthesizes with a warning for each it meets', () => {
    // CDK prints each warning as it synthesizes; the test reads them from the annotations instead.
    const printed = jest.spyOn(console, 'error').mockImplementation(() => {});
    let huge: Synth;
    let warnings: string[];
    try {
      huge = synth({ audience: 1_000_000 });
      warnings = Annotations.fromStack(huge.stack)
        .findWarning('*', Match.stringLikeRegexp('beyond what a quota raise fixes'))
        .map((w) => String(w.entry.data));
    } finally {
      printed.mockRestore();
    }
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toMatch(/cold API Lambda needs 70 s/);
    const [, table] = onlyResource(huge.template, 'AWS::DynamoDB::Table');
    expect(table.Properties.WarmThroughput).toEqual({
      WriteUnitsPerSecond: 569_000,
      ReadUnitsPerSecond: 278_000,
    });
  });

  it('"A bad audience fails synth, naming the key": out of range or not whole', () => {
    for (const audience of [50, 2.5, 20_000_000, Number.NaN]) {
      expect(() => synth({ audience })).toThrow(ConfigurationError);
      expect(() => synth({ audience })).toThrow(
        /^audience .*: expected a whole number of viewers from 100 to 10,000,000 \(CDK context -c audience=…\)$/,
      );
    }
  });
});

describe('README "Sizing and quotas"', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim().replace(/^-+$/, '---'));

  it('"The README\'s table is what the code computes": its rows are sizingTable() (1k, 10k, 100k, 1M viewers)', () => {
    const block = /<!-- sizing:table -->([\s\S]*?)<!-- \/sizing:table -->/.exec(readme);
    expect(block).not.toBeNull();
    const rows = block![1]!.split('\n').filter((line) => line.trim() !== '');
    expect(rows.map(cells)).toEqual(sizingTable().map(cells));
  });

  it('states the largest audience that needs no quota raise, the largest without reserved concurrency, the limits no raise lifts, and the default audience', () => {
    for (const limit of ['lambda-scaling', 'shard-writes', 'tally-reads'] as const)
      expect(readme.toLowerCase()).toContain(`from ${fmt(largestAudienceWithin(limit) + 1)} viewers`);
    expect(readme).toContain(`up to ${fmt(largestAudienceWithinDefaultQuotas())} viewers`);
    expect(readme).toContain(`up to ${fmt(largestAudienceWithoutReservedConcurrency())} viewers`);
    expect(readme).toContain(`from ${fmt(largestAudienceWithoutReservedConcurrency() + 1)} viewers`);
    expect(readme).toContain(`pre-warmed up to ${fmt(largestAudienceWithoutWarmThroughput())} viewers`);
    expect(readme).toContain('-c audience=');
    expect(readme).toContain(`default ${fmt(DEFAULT_AUDIENCE)}`);
  });
});
