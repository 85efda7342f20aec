/**
 * The child process's entry: registers tsx in this thread only, then runs
 * child.ts. `node --import tsx` would do the same, but worker threads inherit
 * the process's flags, so every peer's threads would load tsx too (≈300 ms of
 * start-up per pool, measured). Registered here, tsx stays out of every
 * pool's threads; Troupe is benchmarked from its compiled dist/.
 */
import { register } from 'tsx/esm/api';

register();
await import('./child.ts');
