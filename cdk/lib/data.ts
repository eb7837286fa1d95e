// Data: the one DynamoDB table, from the shared spec in contract/table.ts, with its warm throughput
// from the audience (core/sizing.ts). Its resources are the stack's own (see showrunner-stack.ts).
import { RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { TABLE, createTableInput } from '../../contract/table.ts';
import type { Sizing } from '../../core/sizing.ts';

/**
 * What the poll store does (store/polls.ts): get/batch-get/query, conditional put, update.
 * No Scan, DeleteItem or BatchWriteItem: nothing in the app needs them. Item actions are granted
 * on the table only and Query on the table and its index (tableGrants).
 */
export const TABLE_DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

export interface ShowDataProps {
  /** The table's warm throughput (and its index's) follows the audience. */
  readonly sizing: Sizing;
  /** Keep the table (and its answers) when the stack is destroyed. */
  readonly retainData: boolean;
}

export class ShowData {
  readonly table: Table;
  /** The table's global secondary indexes (contract/table.ts), by name. */
  readonly indexNames: readonly string[];
  /** The ARNs of the table's indexes. */
  readonly indexArns: string[];
  /** The table ARN first, then its index ARNs (only Query and Scan can address an index). */
  readonly tableResources: string[];

  constructor(stack: Stack, props: ShowDataProps) {
    const { sizing } = props;
    const spec = createTableInput('unused');
    const attribute = (name: string) => {
      const type = spec.AttributeDefinitions.find((a) => a.AttributeName === name)?.AttributeType;
      return { name, type: type === 'N' ? AttributeType.NUMBER : AttributeType.STRING };
    };
    this.table = new Table(stack, 'Table', {
      partitionKey: attribute(TABLE.partitionKey),
      sortKey: attribute(TABLE.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Pre-warmed for the storm only when a new table's 4,000 writes/s would not do (sizing.ts):
      // none at the default audience. DynamoDB never lowers warm throughput, and bills it.
      ...(sizing.tableWarmThroughput ? { warmThroughput: sizing.tableWarmThroughput } : {}),
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of spec.GlobalSecondaryIndexes) {
      const [hash, range] = index.KeySchema;
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: attribute(hash!.AttributeName),
        ...(range ? { sortKey: attribute(range.AttributeName) } : {}),
        projectionType: ProjectionType.ALL,
        // Every answer item is written to the index too; a GSI short of write capacity throttles
        // the table's writes (back-pressure), so it is warmed alongside.
        ...(sizing.indexWarmThroughput ? { warmThroughput: sizing.indexWarmThroughput } : {}),
      });
    }
    this.indexNames = spec.GlobalSecondaryIndexes.map((i) => i.IndexName);
    this.indexArns = this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`);
    this.tableResources = [this.table.tableArn, ...this.indexArns];
  }
}
