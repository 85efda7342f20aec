import { StringDecoder } from 'node:string_decoder';

/**
 * The lines of a stream, read only as fast as they are consumed: the stream
 * is paused while the consumer awaits, so a file of any size takes the memory
 * of one chunk. (`readline`'s async iterator queues every line it reads,
 * consumer or not: on a file of a million lines that is the whole file.)
 */
export async function* readLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
