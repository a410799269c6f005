import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/** The five processes that may speak on the broker; each has its own key pair. */
export const SERVICE_NAMES = ['api-gateway', 'users', 'listings', 'orders', 'payments'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const isServiceName = (value: unknown): value is ServiceName => typeof value === 'string' && (SERVICE_NAMES as readonly string[]).includes(value);

/** AMQP headers that carry who sent a message and its signature. */
export const HEADER_SENDER = 'x-sender';
export const HEADER_SIGNATURE = 'x-signature';

/**
 * A service's proof of who sent a message. Every RPC request, reply and event is signed with the
 * sender's private key over what it means (its kind, routing facts and body), and the receiver checks
 * the signature against the sender's public key. A message published by anyone without a service's
 * key — even with broker credentials — is refused, so nothing is obeyed merely because it arrived.
 */
export class ServiceIdentity {
  private readonly publicKeys: ReadonlyMap<ServiceName, readonly KeyObject[]>;

  constructor(
    readonly name: ServiceName,
    private readonly privateKey: KeyObject,
    publicKeys: ReadonlyMap<ServiceName, readonly KeyObject[]>,
  ) {
    const own = publicKeys.get(name) ?? [];
    const mine = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    // A key pair that does not match the published keys would be refused everywhere: fail at start instead.
    if (!own.some((k) => k.export({ format: 'der', type: 'spki' }).equals(mine))) {
      throw new Error(`SERVICE_PUBLIC_KEYS has no public key for ${name} that matches SERVICE_PRIVATE_KEY`);
    }
    this.publicKeys = publicKeys;
  }

  /** Signs `facts` (newline-joined, none may contain a newline) followed by the body. */
  sign(facts: readonly string[], body: Buffer): string {
    return sign('sha256', signedBytes(facts, body), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }

  /** Whether `sender` (a service name from the message) really signed these facts and body. */
  verify(sender: unknown, facts: readonly string[], body: Buffer, signature: unknown): sender is ServiceName {
    if (!isServiceName(sender) || typeof signature !== 'string' || signature.length > 200) return false;
    const keys = this.publicKeys.get(sender);
    if (!keys) return false;
    const data = signedBytes(facts, body);
    const raw = Buffer.from(signature, 'base64url');
    return keys.some((key) => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, raw));
  }

  /** The headers that sign a message as coming from this service. */
  headers(facts: readonly string[], body: Buffer): Record<string, string> {
    return { [HEADER_SENDER]: this.name, [HEADER_SIGNATURE]: this.sign(facts, body) };
  }

  /** The verified sender of a message carrying `headers`, or undefined. */
  senderOf(headers: Record<string, unknown> | undefined, facts: readonly string[], body: Buffer): ServiceName | undefined {
    const sender = headers?.[HEADER_SENDER];
    return this.verify(sender, facts, body, headers?.[HEADER_SIGNATURE]) ? sender : undefined;
  }
}

function signedBytes(facts: readonly string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${facts.join('\n')}\n`, 'utf8'), body]);
}
