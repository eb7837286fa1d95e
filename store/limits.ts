// The account's DynamoDB limits for one table (DescribeLimits), as `showrunner doctor` reads them
// before a deploy: the DynamoDB calls stay in store/ (ops/ sends none of its own).
import { DescribeLimitsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface TableLimits {
  tableMaxReadCapacityUnits?: number;
  tableMaxWriteCapacityUnits?: number;
}

/** The most read and write capacity one table may have in this account and region. */
export async function tableLimits(dynamoDb: Pick<DynamoDBClient, 'send'>): Promise<TableLimits> {
  const out = await dynamoDb.send(new DescribeLimitsCommand({}));
  return {
    ...(out.TableMaxReadCapacityUnits !== undefined
      ? { tableMaxReadCapacityUnits: out.TableMaxReadCapacityUnits }
      : {}),
    ...(out.TableMaxWriteCapacityUnits !== undefined
      ? { tableMaxWriteCapacityUnits: out.TableMaxWriteCapacityUnits }
      : {}),
  };
}
