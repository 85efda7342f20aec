/**
 * A cluster node process's entry: registers tsx in this thread only, then
 * runs node.ts; see child-entry.mjs for why not `node --import tsx`.
 */
import { register } from 'tsx/esm/api';

register();
await import('./node.ts');
