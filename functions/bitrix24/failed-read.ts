import type { ChatId, ChatRead } from '../core/model.js';

/**
 * A chat read that failed; `retryable` when the same read may succeed later. A
 * {@link Bitrix24Error} fits as it is: its class decides whether to try again.
 */
export function failedRead(
  chatId: ChatId,
  failure: { readonly code: string; readonly message: string; readonly retryable: boolean },
): ChatRead {
  return {
    kind: 'failed',
    chatId,
    code: failure.code,
    message: failure.message,
    retryable: failure.retryable,
  };
}
