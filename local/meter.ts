// Opt-in metering of the local stack (`npm start -- --meter`, or `startLocalStack({meter})`): what
// the local edge saw, in the units AWS bills and limits — DynamoDB write units per partition key and
// per item (and on the requestor index), read units per item, API requests by route, and the AWS
// calls (IVS PutMetadata, Step Functions) by action — so a benchmark can measure a show's request
// pattern on one machine and a capacity model (bench/capacity.ts) can scale it to an audience.
//
// Off by default: the stack then passes no meter and no hook runs. On, it is a few Map updates per
// request (a DynamoDB request's body is parsed once more). Read and reset over the loopback-only edge
// endpoint: GET /_showrunner/meter (the snapshot), POST /_showrunner/meter/reset.
//
// It can also enforce DynamoDB's per-partition write limit scaled down (`writeCapPerKey`, write units
// per second per partition key and per item): a write over it is refused with
// ProvisionedThroughputExceededException, as DynamoDB refuses a hot key, so a design that puts a whole
// vote storm on one key fails on one machine the way it fails in AWS, at a storm scaled down as much.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TABLE } from '../contract/table.ts';
import { sendJson, type EdgeService } from './http.ts';

/** DynamoDB bills writes per 1 KB of item (reads per 4 KB: the items read here are all smaller). */
const WRITE_UNIT_BYTES = 1024;
/** How many of the busiest keys and items a snapshot lists. */
const TOP = 10;
export const METER_PATH = '/_showrunner/meter';

export interface MeterOptions {
  /** Refuse writes over this many write units per second on one partition key or one item. */
  writeCapPerKey?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
}

/** A counter with its busiest second. */
interface Rate {
  total: number;
  second: number;
  inSecond: number;
  peak: number;
}

export interface RateFigure {
  key: string;
  total: number;
  /** The most in one wall-clock second. */
  peak_per_s: number;
}

export interface MeterSnapshot {
  since: string;
  seconds: number;
  write_cap_per_key: number | null;
  dynamodb: {
    /** Requests by operation (PutItem, UpdateItem, BatchGetItem, …), every outcome. */
    requests: Record<string, number>;
    /** Answers by status class and error type (`400 ConditionalCheckFailedException`). */
    outcomes: Record<string, number>;
    /** Table write units, conditional failures included (DynamoDB bills those too). */
    write_units: RateFigure;
    /** Write units on the requestor index (an answer item's successful put). */
    index_write_units: RateFigure;
    /** Writes refused by writeCapPerKey. */
    throttled: number;
    partition_keys_written: number;
    items_written: number;
    /** Every partition key written (at most 1,000, busiest first). */
    partition_keys: RateFigure[];
    /** The busiest items by write units (item = `<partition key> <sort key>`). */
    hottest_items: RateFigure[];
    /**
     * Items by kind: the sort key when it is one of the table's '#' markers (`#tally`, `#poll`…),
     * else `other` (answers): how many, their write units, the busiest one.
     */
    items_by_kind: Record<string, { items: number; write_units: number; hottest: RateFigure }>;
    /** Read units of GetItem and BatchGetItem (eventually consistent: 0.5 each under 4 KB). */
    read_units: RateFigure;
    hottest_read_items: RateFigure[];
    /** Query requests per partition key (their read units depend on what they return). */
    queries: number;
  };
  /** API requests by `METHOD /route`, and by status. */
  api: {
    requests: Record<string, number>;
    statuses: Record<string, number>;
    total: RateFigure;
  };
  /** Edge calls by `service.Action` (ivs.PutMetadata, stepfunctions.StartExecution, …), with statuses. */
  edge: {
    calls: Record<string, number>;
    statuses: Record<string, number>;
    put_metadata: RateFigure;
  };
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/** What the local DynamoDB does with a request before dynalite sees it. */
export interface DynamoDbTap {
  /**
   * The request's operation and body: a refusal to send instead (the write cap), or nothing; `done`
   * is then called with the answer's status and error type once it is sent.
   */
  request(
    operation: string,
    body: Buffer,
  ): {
    refuse?: { status: number; type: string; message: string };
    done?(status: number, type?: string): void;
  };
}

export interface Meter {
  readonly dynamodb: DynamoDbTap;
  /** An API request as API Gateway saw it (the route without its query). */
  api(method: string, route: string, status: number): void;
  /** An edge request: the service that answered, its action and status. */
  edge(service: string, action: string, status: number): void;
  /** The meter's own edge endpoint (snapshot and reset). */
  readonly edgeService: EdgeService;
  snapshot(): MeterSnapshot;
  reset(): void;
}

/** Approximate DynamoDB item size: attribute names plus values (strings in UTF-8, numbers ~ digits/2). */
export function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + valueBytes(value);
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  const [type, v] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(v));
    case 'N':
      return Math.ceil(String(v).replace(/^-|\.|^0+/g, '').length / 2) + 1;
    case 'B':
      return Math.floor((String(v).length * 3) / 4);
    case 'SS':
    case 'NS':
    case 'BS':
      return (v as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
    case 'L':
      return 3 + (v as AttributeValue[]).reduce((n, e) => n + 1 + valueBytes(e), 0);
    case 'M':
      return 3 + itemBytes(v as Item);
    default:
      return 1; // BOOL, NULL
  }
}

function scalar(value: AttributeValue | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.S ?? value.N ?? value.B;
  return v === undefined ? undefined : String(v);
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));

export function createMeter(options: MeterOptions = {}): Meter {
  const now = options.now ?? Date.now;
  const cap = options.writeCapPerKey;
  let since = now();
  let requests = new Map<string, number>();
  let outcomes = new Map<string, number>();
  let keyWrites = new Map<string, Rate>();
  let itemWrites = new Map<string, Rate>();
  let itemReads = new Map<string, Rate>();
  let tableWrites = rate();
  let indexWrites = rate();
  let tableReads = rate();
  let throttled = 0;
  let queries = 0;
  let apiRequests = new Map<string, number>();
  let apiStatuses = new Map<string, number>();
  let apiTotal = rate();
  let edgeCalls = new Map<string, number>();
  let edgeStatuses = new Map<string, number>();
  let putMetadata = rate();

  function rate(): Rate {
    return { total: 0, second: 0, inSecond: 0, peak: 0 };
  }
  function add(r: Rate, n: number, second = Math.floor(now() / 1000)): void {
    if (r.second !== second) {
      r.second = second;
      r.inSecond = 0;
    }
    r.inSecond += n;
    r.total += n;
    if (r.inSecond > r.peak) r.peak = r.inSecond;
  }
  /**
   * The cap: a token bucket per partition key and per item, refilled at `cap` units/s and holding at
   * most one second's worth. Takes the units from both, or from neither and returns false.
   */
  const buckets = new Map<string, { tokens: number; at: number }>();
  function level(name: string, limit: number, t: number): { tokens: number; at: number } {
    let b = buckets.get(name);
    if (!b) buckets.set(name, (b = { tokens: limit, at: t }));
    b.tokens = Math.min(limit, b.tokens + ((t - b.at) / 1000) * limit);
    b.at = t;
    return b;
  }
  function take(pk: string, item: string, units: number, limit: number): boolean {
    const t = now();
    const key = level(`k ${pk}`, limit, t);
    const one = level(`i ${item}`, limit, t);
    if (key.tokens < units || one.tokens < units) return false;
    key.tokens -= units;
    one.tokens -= units;
    return true;
  }
  function addTo(map: Map<string, Rate>, key: string, n: number, second?: number): void {
    let r = map.get(key);
    if (!r) map.set(key, (r = rate()));
    add(r, n, second);
  }
  const bump = (map: Map<string, number>, key: string, n = 1) => map.set(key, (map.get(key) ?? 0) + n);

  /** The writes a request makes: [partition key, item key, units, index units if it succeeds]. */
  function writesOf(
    operation: string,
    body: Record<string, unknown>,
  ): Array<[string, string, number, number]> {
    const out: Array<[string, string, number, number]> = [];
    const put = (item: Item) => {
      const pk = scalar(item[TABLE.partitionKey]) ?? '?';
      const sk = scalar(item[TABLE.sortKey]) ?? '';
      const units = writeUnits(itemBytes(item));
      const indexed =
        item[TABLE.requestorIndex.partitionKey] !== undefined &&
        item[TABLE.requestorIndex.sortKey] !== undefined;
      out.push([pk, `${pk} ${sk}`, units, indexed ? units : 0]);
    };
    const keyed = (key: Item | undefined) => {
      const pk = scalar(key?.[TABLE.partitionKey]) ?? '?';
      const sk = scalar(key?.[TABLE.sortKey]) ?? '';
      // An update's size is the larger of the item before and after it; our updated items are small.
      out.push([pk, `${pk} ${sk}`, 1, 0]);
    };
    if (operation === 'PutItem') put((body.Item ?? {}) as Item);
    else if (operation === 'UpdateItem' || operation === 'DeleteItem') keyed(body.Key as Item | undefined);
    else if (operation === 'BatchWriteItem') {
      for (const writes of Object.values((body.RequestItems ?? {}) as Record<string, unknown[]>)) {
        for (const w of writes as Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>) {
          if (w.PutRequest) put(w.PutRequest.Item);
          else if (w.DeleteRequest) keyed(w.DeleteRequest.Key);
        }
      }
    }
    return out;
  }

  function readsOf(operation: string, body: Record<string, unknown>): Array<[string, number]> {
    const unit = (consistent: unknown) => (consistent === true ? 1 : 0.5);
    const itemOf = (key: Item | undefined) =>
      `${scalar(key?.[TABLE.partitionKey]) ?? '?'} ${scalar(key?.[TABLE.sortKey]) ?? ''}`;
    if (operation === 'GetItem') return [[itemOf(body.Key as Item), unit(body.ConsistentRead)]];
    if (operation === 'BatchGetItem') {
      const out: Array<[string, number]> = [];
      for (const spec of Object.values(
        (body.RequestItems ?? {}) as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>,
      ))
        for (const key of spec.Keys ?? []) out.push([itemOf(key), unit(spec.ConsistentRead)]);
      return out;
    }
    return [];
  }

  const dynamodb: DynamoDbTap = {
    request(operation, raw) {
      bump(requests, operation);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return { done: (status, type) => bump(outcomes, `${status}${type ? ` ${type}` : ''}`) };
      }
      const writes = writesOf(operation, body);
      const second = Math.floor(now() / 1000);
      if (cap !== undefined && writes.length > 0) {
        const over = writes.find(([pk, item, units]) => !take(pk, item, units, cap));
        if (over) {
          throttled++;
          bump(outcomes, '400 ProvisionedThroughputExceededException');
          return {
            refuse: {
              status: 400,
              type: 'ProvisionedThroughputExceededException',
              message: `Throughput exceeds the current capacity for one or more partitions (local write cap: ${cap} write units/s per key and item; key ${over[0]})`,
            },
          };
        }
      }
      // A write's units are consumed whether or not its condition holds; the index is written only if it does.
      for (const [pk, item, units] of writes) {
        addTo(keyWrites, pk, units, second);
        addTo(itemWrites, item, units, second);
        add(tableWrites, units, second);
      }
      for (const [item, units] of readsOf(operation, body)) {
        addTo(itemReads, item, units, second);
        add(tableReads, units, second);
      }
      if (operation === 'Query') queries++;
      return {
        done(status, type) {
          bump(outcomes, `${status}${type ? ` ${type}` : ''}`);
          if (status !== 200) return;
          const indexUnits = writes.reduce((n, w) => n + w[3], 0);
          if (indexUnits > 0) add(indexWrites, indexUnits);
        },
      };
    },
  };

  const figure = (key: string, r: Rate): RateFigure => ({ key, total: r.total, peak_per_s: r.peak });
  const top = (map: Map<string, Rate>, n = TOP) =>
    [...map]
      .sort((a, b) => b[1].total - a[1].total || b[1].peak - a[1].peak)
      .slice(0, n)
      .map(([key, r]) => figure(key, r));
  function byKind(): MeterSnapshot['dynamodb']['items_by_kind'] {
    const kinds: MeterSnapshot['dynamodb']['items_by_kind'] = {};
    for (const [item, r] of itemWrites) {
      const sort = item.slice(item.lastIndexOf(' ') + 1);
      const kind = sort.startsWith('#') ? sort : 'other';
      const k = (kinds[kind] ??= { items: 0, write_units: 0, hottest: figure(item, r) });
      k.items++;
      k.write_units += r.total;
      if (r.total > k.hottest.total || (r.total === k.hottest.total && r.peak > k.hottest.peak_per_s))
        k.hottest = figure(item, r);
    }
    return kinds;
  }
  const record = (map: Map<string, number>) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));

  function snapshot(): MeterSnapshot {
    return {
      since: new Date(since).toISOString(),
      seconds: Math.round((now() - since) / 100) / 10,
      write_cap_per_key: cap ?? null,
      dynamodb: {
        requests: record(requests),
        outcomes: record(outcomes),
        write_units: figure('table', tableWrites),
        index_write_units: figure('index', indexWrites),
        throttled,
        partition_keys_written: keyWrites.size,
        items_written: itemWrites.size,
        partition_keys: top(keyWrites, 1000),
        hottest_items: top(itemWrites),
        items_by_kind: byKind(),
        read_units: figure('table', tableReads),
        hottest_read_items: top(itemReads),
        queries,
      },
      api: { requests: record(apiRequests), statuses: record(apiStatuses), total: figure('api', apiTotal) },
      edge: {
        calls: record(edgeCalls),
        statuses: record(edgeStatuses),
        put_metadata: figure('PutMetadata', putMetadata),
      },
    };
  }

  function reset(): void {
    since = now();
    requests = new Map();
    outcomes = new Map();
    keyWrites = new Map();
    itemWrites = new Map();
    itemReads = new Map();
    tableWrites = rate();
    indexWrites = rate();
    tableReads = rate();
    throttled = 0;
    queries = 0;
    apiRequests = new Map();
    apiStatuses = new Map();
    apiTotal = rate();
    edgeCalls = new Map();
    edgeStatuses = new Map();
    putMetadata = rate();
    buckets.clear();
  }

  const edgeService: EdgeService = {
    name: 'meter',
    matches: (req: IncomingMessage) => ((req.url ?? '').split('?')[0] ?? '').startsWith(METER_PATH),
    handle(req: IncomingMessage, res: ServerResponse) {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === METER_PATH) return sendJson(res, 200, snapshot());
      if (req.method === 'POST' && path === `${METER_PATH}/reset`) {
        req.resume();
        reset();
        return sendJson(res, 200, { reset: true });
      }
      sendJson(res, 404, { message: `GET ${METER_PATH} or POST ${METER_PATH}/reset` });
    },
  };

  return {
    dynamodb,
    api(method, route, status) {
      bump(apiRequests, `${method} ${route}`);
      bump(apiStatuses, String(status));
      add(apiTotal, 1);
    },
    edge(service, action, status) {
      if (service === 'meter' || service === 'dynamodb') return; // DynamoDB is counted in detail above
      const name = `${service}.${action}`;
      bump(edgeCalls, name);
      bump(edgeStatuses, `${name} ${status}`);
      if (name === 'ivs.PutMetadata') add(putMetadata, 1);
    },
    edgeService,
    snapshot,
    reset,
  };
}
