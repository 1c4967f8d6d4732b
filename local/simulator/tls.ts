import { generate } from 'selfsigned';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

let cached: Promise<TlsMaterial> | undefined;

/**
 * A self-signed certificate for `127.0.0.1` and `localhost`, made once per process (key
 * generation is the slow part). It is marked as a CA so that passing the PEM as the trusted
 * `ca` (undici Agent, `https.request`, NODE_EXTRA_CA_CERTS) verifies it. EC P-256 keeps the
 * start-up cost to milliseconds.
 */
export function selfSignedCertificate(): Promise<TlsMaterial> {
  cached ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 24 * 3600 * 1000),
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return cached;
}
