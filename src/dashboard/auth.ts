import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { InvalidOptionError } from '../errors/errors.js';
import { describe } from '../util/validate.js';

/** The hosts only this machine can reach: a dashboard there may run without a token. */
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

/**
 * Throws `InvalidOptionError` for a `token` that is not a non-empty string,
 * or for a `host` other than loopback without one: reachable from the
 * network, the dashboard could be read and driven by anyone.
 */
export function checkAccess(host: string, token: unknown): void {
  if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
    throw new InvalidOptionError('token', `Expected \`token\` to be a non-empty string, got ${describe(token)}`);
  }
  if (token === undefined && !isLoopback(host)) {
    throw new InvalidOptionError(
      'token',
      `Expected a \`token\` to serve the dashboard on \`${host}\` (not loopback: 127.0.0.1, ::1 or localhost), got undefined`,
    );
  }
}

/** What a request may do: nothing, read, or read and act. */
export type Access = 'none' | 'read' | 'act';

/**
 * How a request is let in. With a token, only a request that carries it as
 * `Authorization: Bearer <token>` may read or act. Without one (loopback
 * only), anyone may read and nobody may act. The token is compared as a
 * SHA-256 digest with `timingSafeEqual`: equal lengths, and a time that
 * says nothing of how much of it matched.
 */
export function createGate(token: string | undefined): (request: IncomingMessage) => Access {
  if (token === undefined) return () => 'read';
  const expected = digest(token);
  return (request) => {
    // The scheme's name is case-insensitive (RFC 9110 §11.1).
    const given = /^bearer (.*)$/i.exec(request.headers.authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), expected) ? 'act' : 'none';
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
