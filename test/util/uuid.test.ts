import { describe, expect, it } from 'vitest';

import { randomId } from '../../src/util/uuid.js';

describe('randomId', () => {
  it('gives version 4 UUIDs, as crypto.randomUUID() does, none twice across many draws of its pool', () => {
    const ids = Array.from({ length: 5_000 }, () => randomId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('returns strings that do not change when the next is made (they share no buffer)', () => {
    const first = randomId();
    const copy = `${first}`;
    randomId();
    expect(first).toBe(copy);
  });
});
