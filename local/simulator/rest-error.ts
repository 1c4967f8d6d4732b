/**
 * A REST method failure: answered as `{"error":code,"error_description":description}`
 * (docs/bitrix24.md §2).
 */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(`${code}: ${description}`);
  }

  body(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

export const methodNotFound = () =>
  new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');

/** docs/bitrix24.md §7 / ISSUE b24-rest-docs#193: the cloud edge's real body. */
export const queryLimitExceeded = () =>
  new RestError(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests');

export const operationTimeLimit = () =>
  new RestError(429, 'OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.');

export const dialogIdEmpty = () =>
  new RestError(400, 'DIALOG_ID_EMPTY', "Dialog ID can't be empty");
