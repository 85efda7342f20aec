// examples/virtual-actors.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createProcessor, sqliteStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-virtual-'));
const store = sqliteStore({ path: join(dir, 'accounts.db') });
const handlers = new URL('./actors-handlers.ts', import.meta.url);
const balance = (snapshot: { context?: unknown }) => (snapshot.context as { balance: number }).balance;

// Nothing is spawned: the account under key `ada` is activated by its first event.
const first = createProcessor({ handlers, store });
const ada = first.actorOf('account', 'ada', { input: { owner: 'Ada', opening: 100 } });
ada.send({ type: 'deposit', amount: 50 });
// Resolves with the snapshot right after the withdrawal, once it is on disk.
console.log(`first run: ada has ${balance(await ada.ask({ type: 'withdraw', amount: 30 }))}`);
await first.shutdown();

// The next run on the same file: the key resumes from its stored snapshot; the input is not used.
const second = createProcessor({ handlers, store });
const again = second.actorOf('account', 'ada', { input: { owner: 'Ada', opening: 0 } });
console.log(`second run: ada has ${balance(await again.ask({ type: 'deposit', amount: 5 }))}`);
await second.shutdown();
rmSync(dir, { recursive: true, force: true });
