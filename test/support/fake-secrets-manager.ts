import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { emulatorClientConfig } from './aws.js';

/**
 * A fake Secrets Manager speaking the real wire protocol (AWS JSON 1.1: `POST /`,
 * `X-Amz-Target: secretsmanager.<Op>`; errors are HTTP 400 `{"__type","message"}` plus
 * `x-amzn-errortype`), so the real @aws-sdk/client-secrets-manager drives it and maps errors to
 * its typed exceptions. No Secrets Manager emulator is published on npm.
 *
 * Modelled: CreateSecret, GetSecretValue (by stage or version), PutSecretValue (ClientRequestToken
 * idempotency, VersionStages), UpdateSecretVersionStage (RemoveFromVersionId must name the
 * current holder of a label being moved), DescribeSecret (VersionIdsToStages). Moving AWSCURRENT
 * moves AWSPREVIOUS to the version it left, as AWS does. Versions left without labels are kept
 * (AWS may delete them). Secrets are looked up by name or ARN.
 */
export interface FakeSecretsManager {
  readonly endpoint: string;
  /** A real SDK client pointed at the fake. */
  readonly client: SecretsManagerClient;
  /** Creates a secret directly (no HTTP); objects are JSON-encoded. Returns its ARN. */
  createSecret(name: string, value: string | object): string;
  /** The version holding `stage` (default AWSCURRENT), or undefined. */
  version(
    nameOrArn: string,
    stage?: string,
  ): { versionId: string; secretString: string; stages: string[] } | undefined;
  /** Every request in arrival order (tests only: inputs include secret values). */
  readonly requests: readonly { op: string; input: Record<string, unknown> }[];
  /** Awaited before each operation is applied; lets a test interleave concurrent callers. */
  beforeOperation:
    | ((op: string, input: Record<string, unknown>) => Promise<void> | void)
    | undefined;
  stop(): Promise<void>;
}

interface Version {
  readonly id: string;
  readonly secretString: string;
  readonly stages: Set<string>;
  readonly createdDate: number;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly versions: Map<string, Version>;
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, Secret>();
  const requests: { op: string; input: Record<string, unknown> }[] = [];

  const find = (id: unknown): Secret => {
    const key = String(id ?? '');
    for (const s of secrets.values()) {
      if (s.name === key || s.arn === key || s.arn.startsWith(`${key}-`)) return s;
    }
    throw new AwsError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  };
  const holder = (s: Secret, stage: string): Version | undefined =>
    [...s.versions.values()].find((v) => v.stages.has(stage));
  /** Attaches `stage` to `to`, removing it elsewhere; AWSCURRENT drags AWSPREVIOUS along. */
  const attach = (s: Secret, stage: string, to: Version): void => {
    const from = holder(s, stage);
    if (from === to) return;
    from?.stages.delete(stage);
    to.stages.add(stage);
    if (stage === 'AWSCURRENT' && from) {
      holder(s, 'AWSPREVIOUS')?.stages.delete('AWSPREVIOUS');
      from.stages.add('AWSPREVIOUS');
    }
  };
  const create = (name: string, secretString: string, token?: string): Secret => {
    if (secrets.has(name)) {
      throw new AwsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    const version: Version = {
      id: token ?? randomUUID(),
      secretString,
      stages: new Set(['AWSCURRENT']),
      createdDate: Date.now() / 1000,
    };
    const secret: Secret = { arn, name, versions: new Map([[version.id, version]]) };
    secrets.set(name, secret);
    return secret;
  };
  const invalid = (message: string) => new AwsError('InvalidParameterException', message);

  const ops: Record<string, (input: Record<string, unknown>) => unknown> = {
    CreateSecret(input) {
      if (typeof input.SecretString !== 'string') throw invalid('SecretString is required here.');
      const s = create(
        String(input.Name),
        input.SecretString,
        typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined,
      );
      return { ARN: s.arn, Name: s.name, VersionId: holder(s, 'AWSCURRENT')?.id };
    },
    GetSecretValue(input) {
      const s = find(input.SecretId);
      const stage = typeof input.VersionStage === 'string' ? input.VersionStage : undefined;
      const byId =
        typeof input.VersionId === 'string' ? s.versions.get(input.VersionId) : undefined;
      const v =
        byId ?? (input.VersionId === undefined ? holder(s, stage ?? 'AWSCURRENT') : undefined);
      if (!v || (stage !== undefined && !v.stages.has(stage))) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for ${input.VersionId ? 'VersionId' : 'staging label'}: ${input.VersionId ?? stage ?? 'AWSCURRENT'}`,
        );
      }
      return {
        ARN: s.arn,
        Name: s.name,
        VersionId: v.id,
        SecretString: v.secretString,
        VersionStages: [...v.stages],
        CreatedDate: v.createdDate,
      };
    },
    PutSecretValue(input) {
      const s = find(input.SecretId);
      if (typeof input.SecretString !== 'string') throw invalid('SecretString is required here.');
      const token =
        typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID();
      const existing = s.versions.get(token);
      if (existing) {
        if (existing.secretString !== input.SecretString) {
          throw new AwsError(
            'ResourceExistsException',
            "You can't modify an existing version, you can only create a new version.",
          );
        }
        return {
          ARN: s.arn,
          Name: s.name,
          VersionId: existing.id,
          VersionStages: [...existing.stages],
        };
      }
      const stages = Array.isArray(input.VersionStages)
        ? input.VersionStages.map(String)
        : ['AWSCURRENT'];
      const v: Version = {
        id: token,
        secretString: input.SecretString,
        stages: new Set(),
        createdDate: Date.now() / 1000,
      };
      s.versions.set(v.id, v);
      for (const stage of stages) attach(s, stage, v);
      return { ARN: s.arn, Name: s.name, VersionId: v.id, VersionStages: [...v.stages] };
    },
    UpdateSecretVersionStage(input) {
      const s = find(input.SecretId);
      const stage = String(input.VersionStage ?? '');
      const moveTo = typeof input.MoveToVersionId === 'string' ? input.MoveToVersionId : undefined;
      const removeFrom =
        typeof input.RemoveFromVersionId === 'string' ? input.RemoveFromVersionId : undefined;
      const current = holder(s, stage);
      if (moveTo !== undefined) {
        const target = s.versions.get(moveTo);
        if (!target) {
          throw new AwsError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret version: ${moveTo}`,
          );
        }
        if (current && current !== target && removeFrom !== current.id) {
          throw invalid(
            `The staging label ${stage} is currently attached to version ${current.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
          );
        }
        attach(s, stage, target);
      } else {
        if (removeFrom === undefined || current?.id !== removeFrom) {
          throw invalid(
            `The staging label ${stage} is not attached to version ${removeFrom ?? '(none)'}.`,
          );
        }
        if (stage === 'AWSCURRENT')
          throw invalid('You can only move AWSCURRENT to another version, not remove it.');
        current.stages.delete(stage);
      }
      return { ARN: s.arn, Name: s.name };
    },
    DescribeSecret(input) {
      const s = find(input.SecretId);
      const versionIdsToStages: Record<string, string[]> = {};
      for (const v of s.versions.values()) versionIdsToStages[v.id] = [...v.stages];
      return { ARN: s.arn, Name: s.name, VersionIdsToStages: versionIdsToStages };
    },
  };

  const fake: { beforeOperation: FakeSecretsManager['beforeOperation'] } = {
    beforeOperation: undefined,
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      const op = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          unknown
        >;
        requests.push({ op, input });
        const handler = ops[op];
        if (!handler)
          throw new AwsError(
            'UnknownOperationException',
            `Operation ${op} is not supported by the fake.`,
          );
        await fake.beforeOperation?.(op, input);
        send(200, handler(input));
      } catch (error) {
        if (error instanceof AwsError)
          send(400, { __type: error.type, message: error.message }, error.type);
        else
          send(
            500,
            { __type: 'InternalServiceError', message: String(error) },
            'InternalServiceError',
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SecretsManagerClient({ ...emulatorClientConfig(endpoint), maxAttempts: 1 });

  return {
    endpoint,
    client,
    requests,
    get beforeOperation() {
      return fake.beforeOperation;
    },
    set beforeOperation(hook) {
      fake.beforeOperation = hook;
    },
    createSecret(name, value) {
      return create(name, typeof value === 'string' ? value : JSON.stringify(value)).arn;
    },
    version(nameOrArn, stage = 'AWSCURRENT') {
      const v = holder(find(nameOrArn), stage);
      return v && { versionId: v.id, secretString: v.secretString, stages: [...v.stages] };
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((e) => (e ? reject(e) : resolve())),
      );
    },
  };
}
