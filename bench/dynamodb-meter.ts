import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The adapters that call DynamoDB in the bench, each through a client of its own. */
export const DYNAMO_COMPONENTS = ['snapshots', 'hints', 'bucket'] as const;
export type DynamoComponent = (typeof DYNAMO_COMPONENTS)[number];

/**
 * DynamoDB calls of one component. A failed call (a lost conditional write) counts as a call but
 * adds no units: an error carries no ConsumedCapacity, although DynamoDB bills it.
 */
export interface DynamoTally {
  readonly reads: number;
  readonly writes: number;
  /** Sum of ConsumedCapacity.CapacityUnits (what on-demand bills as read / write request units). */
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

export type DynamoTallies = Readonly<Record<DynamoComponent | 'total', DynamoTally>>;

export interface DynamoMeter {
  /** A document client (the Lambdas' marshalling) whose calls count for `component`. */
  documentClient(component: DynamoComponent): DynamoDBDocumentClient;
  /** Counts so far, per component and in total. */
  read(): DynamoTallies;
  close(): void;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

interface MutableTally {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  byOperation: Record<string, number>;
}

const emptyTally = (): MutableTally => ({
  reads: 0,
  writes: 0,
  readUnits: 0,
  writeUnits: 0,
  byOperation: {},
});

function addTo(sum: MutableTally, t: DynamoTally, weight: number): MutableTally {
  sum.reads += weight * t.reads;
  sum.writes += weight * t.writes;
  sum.readUnits += weight * t.readUnits;
  sum.writeUnits += weight * t.writeUnits;
  for (const [op, n] of Object.entries(t.byOperation))
    sum.byOperation[op] = (sum.byOperation[op] ?? 0) + weight * n;
  return sum;
}

const unitsOf = (capacity: unknown): number =>
  (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []).reduce(
    (sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0),
    0,
  );

/**
 * Counts every data-plane DynamoDB call at the client, by the component whose client made it:
 * a middleware on each client's stack asks for `ReturnConsumedCapacity: TOTAL` where the adapter
 * did not (only the response changes) and adds up the capacity DynamoDB returns. The Lambdas
 * share one client between the stores; a client per store changes no call, only the connections.
 */
export function createDynamoMeter(config: DynamoDBClientConfig): DynamoMeter {
  const tallies = new Map<DynamoComponent, MutableTally>(
    DYNAMO_COMPONENTS.map((c) => [c, emptyTally()]),
  );
  const clients: DynamoDBClient[] = [];
  return {
    documentClient(component) {
      const tally = tallies.get(component) as MutableTally;
      const client = new DynamoDBClient(config);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const operation = (context.commandName ?? '').replace(/Command$/, '');
          const read = READS.has(operation);
          if (!read && !WRITES.has(operation)) return next(args);
          const input = args.input as Record<string, unknown>;
          tally[read ? 'reads' : 'writes'] += 1;
          tally.byOperation[operation] = (tally.byOperation[operation] ?? 0) + 1;
          const result = await next({
            ...args,
            input: { ReturnConsumedCapacity: 'TOTAL', ...input },
          });
          const units = unitsOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          tally[read ? 'readUnits' : 'writeUnits'] += units;
          return result;
        },
        { step: 'initialize', name: 'benchDynamoMeter' },
      );
      clients.push(client);
      return DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
    },
    read() {
      const out = {} as Record<DynamoComponent | 'total', DynamoTally>;
      const total = emptyTally();
      for (const [component, tally] of tallies) {
        out[component] = addTo(emptyTally(), tally, 1);
        addTo(total, tally, 1);
      }
      out.total = total;
      return out;
    },
    close() {
      for (const client of clients) client.destroy();
    },
  };
}

/** Σ weight × tallies, per component: a delta ([after, 1], [before, −1]), a mean, a multiple. */
export function weighTallies(parts: readonly (readonly [DynamoTallies, number])[]): DynamoTallies {
  const out = {} as Record<DynamoComponent | 'total', DynamoTally>;
  for (const key of [...DYNAMO_COMPONENTS, 'total'] as const) {
    const sum = emptyTally();
    for (const [tallies, weight] of parts) addTo(sum, tallies[key], weight);
    for (const [op, n] of Object.entries(sum.byOperation)) if (n === 0) delete sum.byOperation[op];
    out[key] = sum;
  }
  return out;
}
