import { createLambdaWorker } from '../app/lambda-worker.js';

/** SQS FIFO work items → sync → partial batch response. Wiring lives in `createLambdaWorker`. */
export const handler = createLambdaWorker(process.env);
