import { type Bitrix24Credentials, DEFAULT_OAUTH_TOKEN_ENDPOINT } from './credentials.js';
import { Bitrix24ConfigurationError } from './errors.js';

/**
 * HTTPS everywhere except loopback: webhook codes and tokens travel in every request, and the
 * portal itself rejects plain HTTP with "Https required." (docs/bitrix24.md §1).
 */
export function isSecureUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
}

export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** Refuses credentials whose URLs are not {@link isSecureUrl secure}, or a webhook URL without its "/". */
export function checkCredentialUrls(creds: Bitrix24Credentials): void {
  if (creds.kind === 'webhook') {
    requireSecureUrl(creds.webhookUrl, 'webhookUrl');
    if (!creds.webhookUrl.endsWith('/')) {
      throw new Bitrix24ConfigurationError({
        code: 'INVALID_URL',
        method: 'configuration',
        description: 'webhookUrl must end with "/"',
      });
    }
    return;
  }
  requireSecureUrl(creds.clientEndpoint, 'clientEndpoint');
  requireSecureUrl(creds.tokenEndpoint ?? DEFAULT_OAUTH_TOKEN_ENDPOINT, 'tokenEndpoint');
}

function requireSecureUrl(value: string, field: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Bitrix24ConfigurationError({
      code: 'INVALID_URL',
      method: 'configuration',
      description: `${field} is not a URL`,
    });
  }
  if (isSecureUrl(url)) return;
  throw new Bitrix24ConfigurationError({
    code: 'INSECURE_URL',
    method: 'configuration',
    description: `${field} must use https (got ${url.protocol}//${url.host})`,
  });
}
