import { buildApp } from 'fauxqs';

export interface EmbeddedSnsSqs {
  /** `http://127.0.0.1:PORT`: SNS and SQS on one endpoint. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * fauxqs (in-process SNS + SQS) on 127.0.0.1. Its `startFauxqs` always listens on 0.0.0.0, so
 * this listens with its app directly; topics, queues and subscriptions are made through the SDK.
 */
export async function startEmbeddedSnsSqs(): Promise<EmbeddedSnsSqs> {
  const app = buildApp({ logger: false });
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  return { endpoint, stop: () => app.close() };
}
