// showrunner doctor: the pure evaluation (needs against account facts), the facts as the real AWS SDK
// clients read them from recorded AWS responses (doctor-replay.ts, test/fixtures/doctor/), and the
// command as a producer runs it: a brand-new account, a default one, a raised one and a restricted role.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { main } from '../../cli/showrunner.ts';
import { DEFAULT_AUDIENCE, MAX_AUDIENCE, sizeFor } from '../../core/sizing.ts';
import { createDoctorClients } from '../../ops/doctor/clients.ts';
import {
  CDK_BOOTSTRAP,
  evaluate,
  QUOTA_FOR_RAISE,
  quotasToRead,
  read,
  unread,
  type AccountFacts,
  type CheckLine,
  type DoctorReport,
} from '../../ops/doctor/evaluate.ts';
import { gatherFacts } from '../../ops/doctor/facts.ts';
import { startReplay, type Replay } from './doctor-replay.ts';

const REGION = 'eu-west-1';

/** An account with AWS's default quotas, bootstrapped, nothing deployed: each test changes what it needs. */
function facts(overrides: Partial<AccountFacts> = {}): AccountFacts {
  return {
    region: REGION,
    account: '222222222222',
    lambda: read({ concurrentExecutions: 1000, unreservedConcurrentExecutions: 1000 }),
    stack: read(undefined),
    apiGateway: read({
      cloudWatchRoleArn: 'arn:aws:iam::222222222222:role/ApiGatewayLogs',
      rateLimit: 10000,
      burstLimit: 5000,
    }),
    dynamoDb: read({ tableMaxReadCapacityUnits: 40000, tableMaxWriteCapacityUnits: 40000 }),
    ivsChannels: read(0),
    ivsQuotas: read([]),
    bootstrap: read({ version: CDK_BOOTSTRAP.latestVersion, source: 'ssm' }),
    cloudFront: read({ distributions: 1 }),
    quotas: {},
    ...overrides,
  };
}

const judge = (audience: number, f: AccountFacts, stackSetsApiGatewayRole?: boolean) =>
  evaluate({
    sizing: sizeFor(audience),
    defaultAudience: false,
    stackName: 'Showrunner',
    facts: f,
    ...(stackSetsApiGatewayRole !== undefined ? { stackSetsApiGatewayRole } : {}),
  });

const line = (report: DoctorReport, service: string, check: string): CheckLine => {
  const found = report.lines.find((l) => l.service === service && l.check === check);
  if (!found) throw new Error(`no line ${service} ${check}`);
  return found;
};

describe('doctor: needs against account facts', () => {
  it('a reservation must leave 100 unreserved: on a quota-10 account any reservation fails, with the quota to raise', () => {
    const big = sizeFor(100_000);
    expect(big.apiReservedConcurrency + big.lifecycleReservedConcurrency).toBeGreaterThan(0);
    const tiny = facts({ lambda: read({ concurrentExecutions: 10, unreservedConcurrentExecutions: 10 }) });
    const report = judge(100_000, tiny);
    const reserved = line(report, 'Lambda', 'reserved concurrency');
    expect(reserved.status).toBe('FAIL');
    // 10 − 100 leaves −90 for the stack: the quota must grow by the reservations and those 90.
    const needed = big.apiReservedConcurrency + big.lifecycleReservedConcurrency + 100;
    expect(reserved.raise).toEqual({
      serviceCode: 'lambda',
      quotaCode: 'L-B99A9384',
      name: 'Concurrent executions',
      to: needed,
    });
    expect(report.ok).toBe(false);
    // Other functions' reservations count against it too; a deployed stack's own are handed back.
    const crowded = facts({
      lambda: read({ concurrentExecutions: 2000, unreservedConcurrentExecutions: 200 }),
    });
    expect(line(judge(100_000, crowded), 'Lambda', 'reserved concurrency').raise?.to).toBe(
      2000 + needed - 200,
    );
    const redeploy = facts({
      lambda: read({ concurrentExecutions: 2000, unreservedConcurrentExecutions: 2000 - needed + 100 }),
      stack: read({
        status: 'UPDATE_COMPLETE',
        functions: [
          { name: 'api', reservedConcurrency: big.apiReservedConcurrency },
          { name: 'lifecycle', reservedConcurrency: big.lifecycleReservedConcurrency },
          { name: 'producer' },
        ],
      }),
    });
    expect(line(judge(100_000, redeploy), 'Lambda', 'reserved concurrency').status).toBe('OK');
  });

  it('without reservations a short Lambda quota is a warning (the peak is throttled), not a failed deploy', () => {
    const s = sizeFor(DEFAULT_AUDIENCE);
    expect(s.reservesConcurrency).toBe(false);
    const report = judge(
      DEFAULT_AUDIENCE,
      facts({ lambda: read({ concurrentExecutions: 10, unreservedConcurrentExecutions: 10 }) }),
    );
    expect(line(report, 'Lambda', 'reserved concurrency')).toMatchObject({
      status: 'OK',
      needs: 'no reservation',
    });
    expect(line(report, 'Lambda', 'concurrent executions')).toMatchObject({
      status: 'WARN',
      raise: { quotaCode: 'L-B99A9384', to: s.accountConcurrencyNeeded },
    });
    expect(report.ok).toBe(true);
  });

  it('API Gateway: the logging role is info when the stack sets it, a FAIL with the fix when it does not', () => {
    const noRole = facts({ apiGateway: read({ rateLimit: 10000, burstLimit: 5000 }) });
    expect(line(judge(1000, noRole, true), 'API Gateway', 'CloudWatch Logs role')).toMatchObject({
      status: 'INFO',
      has: expect.stringContaining('the stack sets one'),
    });
    const refused = line(judge(1000, noRole, false), 'API Gateway', 'CloudWatch Logs role');
    expect(refused.status).toBe('FAIL');
    expect(refused.fix).toContain('-c apiGatewayCloudWatchRole=true');
    expect(refused.fix).toContain('aws apigateway update-account');
    // The account throttle caps the stage: below the stage's rate, the Throttle rate quota is named.
    const throttle = line(judge(100_000, facts()), 'API Gateway', 'account throttle');
    expect(throttle).toMatchObject({
      status: 'FAIL',
      raise: { serviceCode: 'apigateway', quotaCode: 'L-8A5B8E43', name: 'Throttle rate' },
    });
  });

  it('DynamoDB: warm throughput above the table-level quota fails, naming its quota', () => {
    const s = sizeFor(1_000_000);
    const report = judge(1_000_000, facts());
    expect(line(report, 'DynamoDB', 'table write throughput')).toMatchObject({
      status: 'FAIL',
      raise: {
        quotaCode: 'L-AB614373',
        to: Math.max(s.tableWriteUnitsPerSecond, s.tableWarmThroughput!.writeUnitsPerSecond!),
      },
    });
    expect(line(report, 'DynamoDB', 'table read throughput')).toMatchObject({
      status: 'FAIL',
      raise: { quotaCode: 'L-CF0CBE56' },
    });
  });

  it('IVS: channels against the Service Quotas quota when listed, else the documented default; PutMetadata is a fixed rate', () => {
    const full = facts({
      ivsChannels: read(3),
      ivsQuotas: read([{ name: 'Channels', code: 'L-TEST0001', value: 3 }]),
    });
    expect(line(judge(1000, full), 'IVS', 'channels')).toMatchObject({
      status: 'FAIL',
      raise: { quotaCode: 'L-TEST0001', to: 4 },
    });
    expect(line(judge(1000, facts()), 'IVS', 'channels')).toMatchObject({
      status: 'INFO',
      has: expect.stringContaining("AWS's default applies"),
    });
    expect(line(judge(1000, facts()), 'IVS', 'PutMetadata rate')).toMatchObject({
      status: 'OK',
      has: expect.stringContaining('155/s per account'),
    });
  });

  it('CDK bootstrap: missing or too old fails with the command; older than the installed CDK warns', () => {
    const missing = line(judge(1000, facts({ bootstrap: read({ source: 'ssm' }) })), 'CDK', 'bootstrap');
    expect(missing).toMatchObject({ status: 'FAIL', fix: 'npx cdk bootstrap aws://222222222222/eu-west-1' });
    const old = line(
      judge(1000, facts({ bootstrap: read({ version: 5, source: 'ssm' }) })),
      'CDK',
      'bootstrap',
    );
    expect(old.status).toBe('FAIL');
    expect(
      line(judge(1000, facts({ bootstrap: read({ version: 21, source: 'ssm' }) })), 'CDK', 'bootstrap')
        .status,
    ).toBe('WARN');
    const anonymous = facts({ bootstrap: read({ source: 'ssm' }) });
    delete anonymous.account;
    expect(line(judge(1000, anonymous), 'CDK', 'bootstrap').fix).toBe(
      'npx cdk bootstrap aws://ACCOUNT-ID/eu-west-1 (ACCOUNT-ID: aws sts get-caller-identity)',
    );
  });

  it('a stack stuck in a failed state fails the check with the command that unsticks it', () => {
    const stuck = (status: string) =>
      line(
        judge(1000, facts({ stack: read({ status, functions: [] }) })),
        'CloudFormation',
        'stack Showrunner',
      );
    expect(stuck('UPDATE_ROLLBACK_FAILED')).toMatchObject({
      status: 'FAIL',
      fix: 'aws cloudformation continue-update-rollback --stack-name Showrunner --region eu-west-1',
    });
    expect(stuck('DELETE_FAILED').fix).toContain('aws cloudformation delete-stack --stack-name Showrunner');
    expect(stuck('UPDATE_COMPLETE').status).toBe('INFO');
  });

  it('a fact that could not be read says why and which action it needs, and spoils only its own lines', () => {
    const denied = facts({
      apiGateway: unread({
        kind: 'access-denied',
        name: 'AccessDeniedException',
        message: 'not authorized',
        action: 'apigateway:GET on arn:aws:apigateway:eu-west-1::/account',
      }),
      cloudFront: unread({ kind: 'other', name: 'Whatever', message: 'no answer' }),
    });
    const report = judge(1000, denied);
    expect(line(report, 'API Gateway', 'account throttle')).toMatchObject({
      status: 'WARN',
      has: 'could not read (AccessDenied: needs apigateway:GET on arn:aws:apigateway:eu-west-1::/account)',
    });
    expect(line(report, 'CloudFront', 'distributions')).toMatchObject({ status: 'INFO' });
    expect(line(report, 'Lambda', 'reserved concurrency').status).toBe('OK');
    expect(report.ok).toBe(true);
  });

  it('knows a Service Quotas quota for every quota raise sizing can name, and the bootstrap versions the installed CDK uses', () => {
    for (const raise of sizeFor(MAX_AUDIENCE).quotaRaises) expect(QUOTA_FOR_RAISE[raise.name]).toBeDefined();
    // 100,000 viewers: Lambda, API Gateway, and DynamoDB's table writes (a quiz vote writes 3 units).
    expect(quotasToRead(sizeFor(100_000)).map((q) => q.quotaCode)).toEqual([
      'L-B99A9384',
      'L-8A5B8E43',
      'L-AB614373',
    ]);
    const installed = (path: string) =>
      readFileSync(new URL(`../../node_modules/${path}`, import.meta.url), 'utf8');
    const synthesizer = installed('aws-cdk-lib/core/lib/stack-synthesizers/default-synthesizer.js');
    expect(/MIN_BOOTSTRAP_STACK_VERSION=(\d+)/.exec(synthesizer)?.[1]).toBe(String(CDK_BOOTSTRAP.minVersion));
    const template = installed('aws-cdk/lib/api/bootstrap/bootstrap-template.yaml');
    expect(/BootstrapVersion:[\s\S]*?Value: '(\d+)'/.exec(template)?.[1]).toBe(
      String(CDK_BOOTSTRAP.latestVersion),
    );
  });
});

describe('doctor against recorded AWS responses', () => {
  let replay: Replay;

  beforeAll(async () => {
    replay = await startReplay();
  });
  afterAll(async () => {
    await replay?.close();
  });

  /** `showrunner doctor --target aws --region eu-west-1 …` with the keys of `account`, as a shell would set them. */
  async function doctor(account: string, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(['doctor', '--target', 'aws', '--region', REGION, ...args], {
      out: (t) => (stdout += t),
      err: (t) => (stderr += t),
      env: {
        AWS_ENDPOINT_URL: replay.endpoint,
        AWS_ACCESS_KEY_ID: account,
        AWS_SECRET_ACCESS_KEY: 'recorded',
      },
    });
    return { code, stdout, stderr };
  }

  const row = (status: string, check: string, rest = '') =>
    new RegExp(`^${status}\\s+${check.replace(/ /g, '\\s')}\\s+.*${rest}`, 'm');

  it('reads each service through the real SDK clients: the raised account, its deployed stack and its reservations', async () => {
    const clients = createDoctorClients({
      region: REGION,
      endpoint: replay.endpoint,
      credentials: { accessKeyId: 'raised', secretAccessKey: 'recorded' },
    });
    try {
      const f = await gatherFacts({
        clients,
        region: REGION,
        stackName: 'Showrunner',
        quotas: quotasToRead(sizeFor(100_000)),
      });
      expect(f).toMatchObject({
        account: '333333333333',
        lambda: { ok: true, value: { concurrentExecutions: 20000, unreservedConcurrentExecutions: 18525 } },
        stack: {
          ok: true,
          value: {
            status: 'UPDATE_COMPLETE',
            audience: 100000,
            functions: expect.arrayContaining([
              expect.objectContaining({ reservedConcurrency: 1463 }),
              expect.objectContaining({ reservedConcurrency: 12 }),
            ]),
          },
        },
        apiGateway: { ok: true, value: { rateLimit: 25000, burstLimit: 12500 } },
        dynamoDb: {
          ok: true,
          value: { tableMaxReadCapacityUnits: 40000, tableMaxWriteCapacityUnits: 80000 },
        },
        ivsChannels: { ok: true, value: 1 },
        bootstrap: { ok: true, value: { version: 33, source: 'ssm' } },
        quotas: {
          'L-B99A9384': { ok: true, value: { applied: 20000, defaultValue: 1000 } },
          'L-8A5B8E43': { ok: true, value: { applied: 25000, defaultValue: 10000 } },
          'L-AB614373': { ok: true, value: { applied: 80000, defaultValue: 40000 } },
        },
      });
      expect((f.stack.ok && f.stack.value?.functions.length) || 0).toBe(4);
    } finally {
      clients.destroy();
    }
    expect(replay.unexpected).toEqual([]);
  });

  it('a brand-new account: the default audience passes but for the bootstrap, which fails with the command', async () => {
    const { code, stdout } = await doctor('brand-new');
    expect(code).toBe(1);
    expect(stdout).toContain(
      `Will account 111111111111 in eu-west-1 take stack Showrunner, sized for ${DEFAULT_AUDIENCE.toLocaleString('en-US')} viewers (the default`,
    );
    expect(stdout).toMatch(
      row(
        'FAIL',
        'CDK bootstrap',
        'not bootstrapped in eu-west-1\\s+npx cdk bootstrap aws://111111111111/eu-west-1$',
      ),
    );
    expect(stdout).toMatch(row('OK', 'Lambda reserved concurrency', 'no reservation\\s+10 unreserved of 10'));
    expect(stdout).toMatch(
      row('WARN', 'Lambda concurrent executions', 'applied 10, below the AWS default 1,000.*L-B99A9384'),
    );
    expect(stdout).toMatch(row('INFO', 'API Gateway CloudWatch Logs role', 'none: the stack sets one'));
    expect(stdout).toMatch(row('OK', 'API Gateway account throttle', '10,000 req/s, burst 5,000'));
    expect(stdout).toMatch(row('OK', 'DynamoDB table write throughput', '40,000 per table'));
    expect(stdout).toMatch(row('INFO', 'IVS channels', '0 in use'));
    expect(stdout).toMatch(row('OK', 'IVS PutMetadata rate'));
    expect(stdout).toMatch(row('INFO', 'CloudFront distributions', 'none yet'));
    expect(stdout.match(/^FAIL/gm)).toHaveLength(1);
    expect(stdout).toContain('✗ The deploy would fail here: 1 check FAIL');
    expect(stdout).not.toContain('request-service-quota-increase');
    expect(replay.unexpected).toEqual([]);
  });

  it('a default and a raised account take the default audience (warnings allowed)', async () => {
    const fresh = await doctor('default');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).not.toMatch(/^FAIL/m);
    expect(fresh.stdout).toMatch(row('WARN', 'CDK bootstrap', 'version 27.*updates it to 33'));
    expect(fresh.stdout).toContain('✓ This account takes the deploy (1 warning).');
    const raised = await doctor('raised');
    expect(raised.code).toBe(0);
    expect(raised.stdout).toMatch(
      row(
        'INFO',
        'CloudFormation stack Showrunner',
        'deployed \\(UPDATE_COMPLETE\\), sized for 100,000; its functions reserve 1,475',
      ),
    );
    expect(raised.stdout).toMatch(row('OK', 'API Gateway CloudWatch Logs role', 'set by stack Showrunner'));
    expect(raised.stdout).toContain('✓ This account takes the deploy.');
    expect(replay.unexpected).toEqual([]);
  });

  it('--audience 100000 fails on the brand-new and default accounts, naming the quotas to raise; the raised account takes it', async () => {
    for (const account of ['brand-new', 'default']) {
      const { code, stdout } = await doctor(account, '--audience', '100000');
      expect(code).toBe(1);
      expect(stdout).toContain('sized for 100,000 viewers?');
      expect(stdout).toMatch(
        row(
          'FAIL',
          'Lambda reserved concurrency',
          '1,475 reserved.*raise Service Quotas lambda L-B99A9384 "Concurrent executions" to ≥ 1,575$',
        ),
      );
      expect(stdout).toMatch(
        row(
          'FAIL',
          'API Gateway account throttle',
          '19,500 req/s.*raise Service Quotas apigateway L-8A5B8E43 "Throttle rate" to ≥ 19,500',
        ),
      );
      expect(stdout).toContain(
        'aws service-quotas request-service-quota-increase --region eu-west-1 --service-code lambda --quota-code L-B99A9384 --desired-value 1575   # Concurrent executions',
      );
      expect(stdout).toContain(
        'aws service-quotas request-service-quota-increase --region eu-west-1 --service-code apigateway --quota-code L-8A5B8E43 --desired-value 19500   # Throttle rate',
      );
      // A quiz storm writes 3 units a vote: 58,500 a second at the stage's rate, over the 40,000 default.
      expect(stdout).toMatch(
        row('FAIL', 'DynamoDB table write throughput', '.*L-AB614373 "Table-level write throughput limit"'),
      );
    }
    const raised = await doctor('raised', '--audience', '100_000');
    expect(raised.code).toBe(0);
    expect(raised.stdout).toMatch(
      row(
        'OK',
        'Lambda reserved concurrency',
        '18,525 unreserved of 20,000 \\(\\+1,475 the stack reserves now\\)',
      ),
    );
    expect(raised.stdout).toMatch(
      row(
        'OK',
        'API Gateway account throttle',
        '25,000 req/s.*applied 25,000, raised from the AWS default 10,000',
      ),
    );
    expect(raised.stdout).not.toMatch(/^FAIL/m);
    expect(replay.unexpected).toEqual([]);
  });

  it('AccessDenied spoils only its own lines, naming the action; the bootstrap is read from CDKToolkit instead', async () => {
    const { code, stdout } = await doctor('restricted');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      row(
        'WARN',
        'API Gateway account throttle',
        'could not read \\(AccessDenied: needs apigateway:GET on arn:aws:apigateway:eu-west-1::/account\\)',
      ),
    );
    expect(stdout).toMatch(
      row('WARN', 'IVS channels', 'could not read \\(AccessDenied: needs ivs:ListChannels\\)'),
    );
    expect(stdout).toMatch(row('WARN', 'CDK bootstrap', 'version 30 \\(stack CDKToolkit\\)'));
    expect(stdout).toMatch(row('OK', 'Lambda concurrent executions', '1,000'));
    expect(stdout).toMatch(
      row(
        'INFO',
        'CloudFront distributions',
        'could not read \\(AccessDenied: needs cloudfront:ListDistributions\\)',
      ),
    );
    expect(replay.unexpected).toEqual([]);
  });

  it('expired credentials, a bad flag or a missing --target stop with one message', async () => {
    const expired = await doctor('expired');
    expect(expired).toMatchObject({ code: 1, stdout: '' });
    expect(expired.stderr).toMatch(
      /^showrunner doctor: the AWS credentials have expired \(ExpiredTokenException/,
    );
    expect(await doctor('default', '--audience', '50')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--audience: expected a whole number of viewers from 100 to 10,000,000, got "50"',
      ),
    });
    expect(await doctor('default', '--audience', 'lots')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--audience: expected'),
    });
    expect(await doctor('default', '--region', 'Ireland')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--region: expected an AWS region such as eu-west-1, got "Ireland"'),
    });
    let stderr = '';
    const local = await main(['doctor'], { out: () => {}, err: (t) => (stderr += t), env: {} });
    expect(local).toBe(2);
    expect(stderr).toContain('--target: doctor checks an AWS account: pass --target aws');
  });

  it('--json prints the report', async () => {
    const { code, stdout } = await doctor('default', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report).toMatchObject({
      region: REGION,
      account: '222222222222',
      audience: DEFAULT_AUDIENCE,
      ok: true,
    });
    expect(report.lines.find((l) => l.check === 'bootstrap')).toMatchObject({
      status: 'WARN',
      has: 'version 27',
    });
  });
});

describe('showrunner doctor --help', () => {
  it('says what it checks, its flags and its exit code', async () => {
    let stdout = '';
    const code = await main(['doctor', '--help'], { out: (t) => (stdout += t), err: () => {}, env: {} });
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Usage: showrunner doctor --target aws \[--audience N\] \[--region R\] \[--stack NAME\] \[--json\]\n/,
    );
    expect(stdout).not.toContain('--target local|aws');
    for (const flag of ['--audience N', '--region R', '--stack NAME', '--json'])
      expect(stdout).toContain(flag);
    expect(stdout).toContain('Exit code 1 when the deploy would fail');
    let help = '';
    await main(['--help'], { out: (t) => (help += t), err: () => {}, env: {} });
    expect(help).toMatch(/^ {2}doctor +check an AWS account's settings and quotas/m);
  });
});
