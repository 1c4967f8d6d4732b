import { describe, expect, it, vi } from 'vitest';
import {
  captureMetrics,
  lambdaContext,
  sqsEvent,
  sqsRecord,
  useWorld,
  workItem,
} from './support/harness.js';

/** docs/operations.md, "Logs": what each worker log line carries. */

const world = useWorld();

type LogLine = Record<string, unknown> & { message: string };

describe('worker logs', () => {
  it('carry the Lambda context on every line, and the item in hand on its lines only', async () => {
    // Prepare: the real Powertools logger, its stdout and stderr (warnings, errors) captured
    const chatId = world().sim.admin.createChat({ title: 'Logged', memberIds: [1, 2] }).id;
    const deployment = await world().deploy({ portals: [{ id: 'acme', chats: [chatId] }] });
    const queueArn = deployment.workQueueArn;
    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];

    // Lambda says how the container started; only an on-demand start is a cold start.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');

    // Act: an item that syncs, then (same container) one that cannot be parsed
    try {
      const worker = deployment.worker({ logger: undefined, metrics: captureMetrics().metrics });
      await worker(
        sqsEvent([sqsRecord(workItem('acme', [chatId]), { queueArn, messageId: 'm-1' })]),
        lambdaContext(300_000, 'request-1'),
      );
      await worker(
        sqsEvent([sqsRecord('{"not":"a work item"}', { queueArn, messageId: 'm-2' })]),
        lambdaContext(300_000, 'request-2'),
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
      vi.unstubAllEnvs();
    }
    const lines = output
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
    const line = (message: string) => lines.find((l) => l.message === message);

    // Assess
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expect(l).toMatchObject({
        service: 'membership-sync',
        function_name: 'MembershipSync-Worker',
        function_request_id: expect.stringMatching(/^request-[12]$/),
        cold_start: expect.any(Boolean),
      });
    }
    expect(line('work item synced')).toMatchObject({
      function_request_id: 'request-1',
      cold_start: true,
      messageId: 'm-1',
      portalId: 'acme',
    });
    const failed = line('work item failed; returned to the queue');
    expect(failed).toMatchObject({
      function_request_id: 'request-2',
      cold_start: false,
      messageId: 'm-2',
    });
    expect(failed).not.toHaveProperty('portalId');
    const afterItem = line('could not shorten the visibility timeout of a failed work item');
    expect(afterItem).toMatchObject({ function_request_id: 'request-2', messageId: 'm-2' });
    expect(afterItem).not.toHaveProperty('portalId');
  });
});
