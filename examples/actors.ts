// examples/actors.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({ handlers: new URL('./actors-handlers.ts', import.meta.url), workers: 2 });

// Two accounts, each an actor with an address, running on a worker thread.
const ada = await processor.spawn('account', { id: 'ada', input: { owner: 'Ada', opening: 100 } });
const bob = await processor.spawn('account', { id: 'bob', input: { owner: 'Bob', opening: 20 } });

// A transfer: events to one actor are processed one at a time, in the order sent.
const transfer = async (from: typeof ada, to: typeof bob, amount: number) => {
  const after = await from.ask({ type: 'withdraw', amount }); // the snapshot right after this event
  const paid = (after.context as { lastWithdrawal: string }).lastWithdrawal === 'paid';
  if (paid) to.send({ type: 'deposit', amount });
  return paid;
};
console.log(`ada → bob 30: ${(await transfer(ada, bob, 30)) ? 'done' : 'refused'}`);
console.log(`bob → ada 500: ${(await transfer(bob, ada, 500)) ? 'done' : 'refused'}`);

for (const ref of processor.actors()) {
  const { balance } = (await ref.ask({ type: 'deposit', amount: 0 })).context as { balance: number };
  console.log(`${ref.id}: ${balance}`);
}

// Closing reaches the machine's final state: the actor ends with its output, and its id is free again.
const closed = await bob.ask({ type: 'close' });
console.log(
  `bob closed: ${JSON.stringify(closed.output)}; live: ${processor
    .actors()
    .map((ref) => ref.id)
    .join(', ')}`,
);
await processor.shutdown();
