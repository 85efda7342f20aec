import type { ServerResponse } from 'node:http';

/**
 * A JSON.stringify replacer for what a task or an actor carries:
 * structured-cloned data may hold what JSON drops (an Error, a Map or a Set
 * would print as `{}`) or refuses (a bigint would throw, and the route
 * answer 500).
 */
export function asJson(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  // As its entries: a Map's keys need not be strings.
  if (value instanceof Map) return [...value];
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body, asJson));
}
