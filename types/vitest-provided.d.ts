import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB Local process started by `test/support/global-setup.ts`. */
    dynamoDbLocalEndpoint: string;
  }
}
