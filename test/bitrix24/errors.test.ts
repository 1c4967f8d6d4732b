import { describe, expect, it } from 'vitest';
import {
  Bitrix24AccessError,
  Bitrix24AuthError,
  Bitrix24Error,
  Bitrix24InvalidRequestError,
  Bitrix24OperationLimitError,
  Bitrix24RateLimitError,
  Bitrix24TransportError,
  classifyError,
} from '../../functions/bitrix24/errors.js';

type ErrorClass = new (...args: never[]) => Bitrix24Error;

const table: [code: string, status: number | undefined, type: ErrorClass][] = [
  ['QUERY_LIMIT_EXCEEDED', 503, Bitrix24RateLimitError],
  ['QUERY_LIMIT_EXCEEDED', 200, Bitrix24RateLimitError],
  ['OPERATION_TIME_LIMIT', 429, Bitrix24OperationLimitError],
  ['NO_AUTH_FOUND', 401, Bitrix24AuthError],
  ['INVALID_CREDENTIALS', 401, Bitrix24AuthError],
  ['INVALID_CREDENTIALS', 403, Bitrix24AuthError],
  ['expired_token', 401, Bitrix24AuthError],
  ['invalid_token', 401, Bitrix24AuthError],
  ['invalid_grant', 400, Bitrix24AuthError],
  ['invalid_client', 400, Bitrix24AuthError],
  ['insufficient_scope', 403, Bitrix24AuthError],
  ['insufficient_scope', undefined, Bitrix24AuthError],
  ['user_access_error', 401, Bitrix24AuthError],
  ['ACCESS_DENIED', 401, Bitrix24AuthError],
  ['PORTAL_DELETED', 403, Bitrix24AuthError],
  ['PORTAL_DELETED', 500, Bitrix24AuthError],
  ['PAYMENT_REQUIRED', 402, Bitrix24AuthError],
  ['OVERLOAD_LIMIT', 503, Bitrix24AuthError],
  ['WRONG_AUTH_TYPE', 400, Bitrix24AuthError],
  ['INVALID_REQUEST', 401, Bitrix24AuthError],
  ['authorization_error', 401, Bitrix24AuthError],
  ['METHOD_CONFIRM_WAITING', 401, Bitrix24AuthError],
  ['ACCESS_ERROR', 403, Bitrix24AccessError],
  ['ACCESS_ERROR', 400, Bitrix24AccessError],
  ['CHAT_ID_EMPTY', 400, Bitrix24InvalidRequestError],
  ['DIALOG_ID_EMPTY', 400, Bitrix24InvalidRequestError],
  ['INVALID_FORMAT', 400, Bitrix24InvalidRequestError],
  ['ERROR_METHOD_NOT_FOUND', 404, Bitrix24InvalidRequestError],
  ['ERROR_BATCH_LENGTH_EXCEEDED', undefined, Bitrix24InvalidRequestError],
  ['ERROR_BATCH_METHOD_NOT_ALLOWED', undefined, Bitrix24InvalidRequestError],
  ['SOMETHING_NEW', 400, Bitrix24InvalidRequestError],
  ['INTERNAL_SERVER_ERROR', 500, Bitrix24TransportError],
  ['ERROR_UNEXPECTED_ANSWER', 500, Bitrix24TransportError],
  ['SOMETHING_NEW', 502, Bitrix24TransportError],
];

describe('error classification by code', () => {
  it.each(table)('%s (HTTP %s) is a %O', (code, status, type) => {
    const error = classifyError(code, { method: 'im.chat.user.list', status, description: 'x' });
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(Bitrix24Error);
    expect(error.name).toBe(type.name);
    expect(error.code).toBe(code);
    expect(error.method).toBe('im.chat.user.list');
  });

  it('marks rate, operation and transport failures retryable and the rest not', () => {
    const retryable = (code: string, status?: number) =>
      classifyError(code, { method: 'm', status }).retryable;
    expect(retryable('QUERY_LIMIT_EXCEEDED', 503)).toBe(true);
    expect(retryable('OPERATION_TIME_LIMIT', 429)).toBe(true);
    expect(retryable('INTERNAL_SERVER_ERROR', 500)).toBe(true);
    expect(retryable('NO_AUTH_FOUND', 401)).toBe(false);
    expect(retryable('ACCESS_ERROR', 403)).toBe(false);
    expect(retryable('CHAT_ID_EMPTY', 400)).toBe(false);
  });

  it('carries the reset time of an operation limit', () => {
    const resetAt = new Date(1_772_477_765_000);
    const error = classifyError('OPERATION_TIME_LIMIT', { method: 'batch', status: 429, resetAt });
    expect(error).toBeInstanceOf(Bitrix24OperationLimitError);
    expect((error as Bitrix24OperationLimitError).resetAt).toEqual(resetAt);
  });

  it('names method, code and status in the message', () => {
    const error = classifyError('CHAT_ID_EMPTY', {
      method: 'im.chat.user.list',
      status: 400,
      description: "Chat ID can't be empty",
    });
    expect(error.message).toBe(
      "im.chat.user.list failed with CHAT_ID_EMPTY (HTTP 400): Chat ID can't be empty",
    );
  });
});
