/** workerpool's worker: registers the shared handlers under their names. */
import workerpool from 'workerpool';
import { cpu, flaky, noop } from './handlers.mjs';

workerpool.worker({ noop, cpu, flaky });
