/** Runs one child measurement in a fresh Node process and collects what it reports. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import {
  CLOSED,
  type ClosedMessage,
  ERROR,
  type ErrorMessage,
  PHASE,
  type PhaseMessage,
  receive,
  receiveLast,
  RESULT,
  type ResultMessage,
} from './protocol.js';
import type { Metrics } from './scenarios/scenario.js';

const CHILD = fileURLToPath(new URL('./child-entry.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ChildOutcome {
  readonly metrics?: Metrics;
  readonly error?: string;
  /** Set when the pools did not close cleanly after the measurement. */
  readonly closeError?: string;
  readonly closeMs?: number;
  readonly wallMs: number;
}

/** The command that reruns a child by hand, for the report's repro lines. */
export function childCommand(scenario: string, contender: string, flags: readonly string[]): string {
  return ['node', ...flags, 'bench/child-entry.mjs', scenario, contender].join(' ');
}

export function runChild(
  scenario: string,
  contender: string,
  flags: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ChildOutcome> {
  const start = performance.now();
  // child-entry.mjs registers tsx in the child's main thread only (see there).
  const child = spawn(process.execPath, [...flags, CHILD, scenario, contender], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - start;
      const result = receive<ResultMessage>(stdout, RESULT);
      const closed = receive<ClosedMessage>(stdout, CLOSED);
      const closeInfo = closed ? { closeMs: closed.ms, ...(closed.error ? { closeError: closed.error } : {}) } : {};
      if (result) {
        resolve({ metrics: result.metrics, wallMs, ...closeInfo });
        return;
      }
      const reported = receive<ErrorMessage>(stdout, ERROR)?.error;
      const where = receiveLast<PhaseMessage>(stdout, PHASE)?.phase ?? 'start';
      const why = timedOut
        ? `timed out after ${Math.round(timeoutMs / 1_000)} s, in phase "${where}"`
        : (reported ?? `exited with ${signal ?? `code ${code}`} and no result; stderr: ${stderr.trim().slice(-1_000) || '(empty)'}`);
      resolve({ error: why, wallMs, ...closeInfo });
    });
  });
}
