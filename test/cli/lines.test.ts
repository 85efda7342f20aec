import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { readLines } from '../../src/cli/lines.js';

async function lines(chunks: Array<string | Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(Readable.from(chunks))) out.push(line);
  return out;
}

describe('readLines', () => {
  it('splits across chunks, handles CRLF, empty lines and a last line without a newline', async () => {
    expect(await lines(['a\nb', 'c\r\n\nd', 'e'])).toEqual(['a', 'bc', '', 'de']);
  });

  it('keeps a multi-byte character split between chunks whole', async () => {
    const bytes = Buffer.from('é\nü\n');
    expect(await lines([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)])).toEqual(['é', 'ü']);
  });

  it('reads only as fast as it is consumed', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 1_000; i++) {
        pulled++;
        yield `${i}\n`;
      }
    }
    const iterator = readLines(source());
    await iterator.next();
    await iterator.next();
    expect(pulled).toBeLessThanOrEqual(3);
    await iterator.return(undefined);
  });
});
