// examples/quickstart.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./quickstart-handlers.ts', import.meta.url),
  workers: 2,
});
await processor.ready;

// No `handler`: the module's default export runs it.
const square = processor.submit({ id: 'square-7', payload: { n: 7 } });
// A named handler: the module's `greet` export runs it.
const greeting = processor.submit({ id: 'greet-ada', handler: 'greet', payload: { name: 'Ada' } });

for (const id of [square, greeting]) {
  const result = await processor.result(id);
  if (result.status === 'done') console.log(`${id}: ${JSON.stringify(result.value)}`);
  else console.log(`${id}: ${result.status}`);
}

await processor.shutdown();
