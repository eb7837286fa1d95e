// The stack's own log groups: every one keeps a month and goes with the stack, so nothing a show
// logged outlives `cdk destroy` or grows without bound.
import { RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export const LOG_RETENTION = RetentionDays.ONE_MONTH;

/** A log group kept LOG_RETENTION and removed with the stack; named only where a service looks for a name. */
export function stackLogGroup(scope: Construct, id: string, props: { logGroupName?: string } = {}): LogGroup {
  return new LogGroup(scope, id, {
    ...props,
    retention: LOG_RETENTION,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
