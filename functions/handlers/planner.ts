import { createLambdaPlanner } from '../app/lambda-planner.js';

/** EventBridge Scheduler tick → work items of ≤ 50 chats → SQS FIFO. */
export const handler = createLambdaPlanner(process.env);
