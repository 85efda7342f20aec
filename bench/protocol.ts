/**
 * How a child process reports to the orchestrator: one tagged JSON line per
 * message on stdout, so library noise on stdout cannot be mistaken for a result.
 */
import type { Metrics } from './scenarios/scenario.js';

export const RESULT = 'BENCH_RESULT ';
export const ERROR = 'BENCH_ERROR ';
/** Sent after the result, once the pools are closed (or failed to close). */
export const CLOSED = 'BENCH_CLOSED ';
/** Sent as a child enters each phase, so a child killed for taking too long says where it was. */
export const PHASE = 'BENCH_PHASE ';
/** From a cluster node (cluster/node.ts) to the child that started it: it has joined the cluster. */
export const READY = 'BENCH_READY ';
/** A cluster node's process CPU time so far, in answer to a `cpu` line on its stdin. */
export const CPU = 'BENCH_CPU ';

export interface ResultMessage {
  readonly metrics: Metrics;
}

export interface ErrorMessage {
  readonly error: string;
}

export interface ClosedMessage {
  readonly ms: number;
  readonly error?: string;
}

export interface PhaseMessage {
  readonly phase: string;
}

export interface ReadyMessage {
  readonly name: string;
}

export interface CpuMessage {
  /** User + system, µs, all of the process's threads. */
  readonly us: number;
}

export type Message = ResultMessage | ErrorMessage | ClosedMessage | PhaseMessage | ReadyMessage | CpuMessage;

export function send(tag: string, message: Message): void {
  process.stdout.write(`${tag}${JSON.stringify(message)}\n`);
}

/** Marks the start of a phase of the measurement (see PHASE). */
export function phase(name: string): void {
  send(PHASE, { phase: name });
}

/** The message of the first line with `tag`, if any. */
export function receive<T>(stdout: string, tag: string): T | undefined {
  for (const line of stdout.split('\n')) if (line.startsWith(tag)) return JSON.parse(line.slice(tag.length)) as T;
  return undefined;
}

/** The message of the last line with `tag`, if any. */
export function receiveLast<T>(stdout: string, tag: string): T | undefined {
  const lines = stdout.split('\n').filter((line) => line.startsWith(tag));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : (JSON.parse(last.slice(tag.length)) as T);
}
