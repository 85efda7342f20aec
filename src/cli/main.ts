#!/usr/bin/env node
/**
 * The `troupe` command. `troupe run <handlers> --input tasks.jsonl` runs a
 * JSONL file of tasks through a processor with a progress bar, writes the
 * results as JSONL, and prints a summary; with `--nats`, through NATS
 * JetStream, run by `troupe node` processes on any machines.
 */
import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { DEFAULT_NATS_URL, type NatsBroker, natsBroker } from '../broker/options.js';
import { createProcessor } from '../create-processor.js';
import { InvalidOptionError, TroupeError, WorkerStartError } from '../errors/errors.js';
import { serveDashboardWithToken } from './dashboard.js';
import { createProgress } from './progress.js';
import { runFile } from './run.js';
import { summaryTable } from './summary.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Counts lines without keeping them, for the progress bar's total and ETA. */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 10 ? lines : lines + 1;
}

/**
 * A mistake in how the command was called (an unknown option, a bad value, a
 * file that cannot be read or written, a handler module that does not load):
 * one line on stderr, exit 2, before any work and with nothing written.
 */
class UsageError extends Error {}

/** Refuses an input that cannot be read, and an output that cannot be written, before anything runs. */
function checkFiles(input: string, output: string): void {
  if (input !== '-') {
    try {
      accessSync(input, constants.R_OK);
      if (!statSync(input).isFile()) throw new Error('not a file');
    } catch (error) {
      throw new UsageError(`cannot read --input ${input}: ${reason(error)}`);
    }
  }
  if (output !== '-') {
    try {
      // The file may not exist yet: its folder must take it.
      accessSync(output, constants.F_OK);
      accessSync(output, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`cannot write --output ${output}: ${reason(error)}`);
      try {
        accessSync(dirname(resolve(output)), constants.W_OK);
      } catch (cause) {
        throw new UsageError(`cannot write --output ${output}: ${reason(cause)}`);
      }
    }
  }
}

function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return message;
}

function broker(nats: string | true, stream: string): NatsBroker {
  // `--nats` alone: natsBroker's own default ($NATS_URL, else DEFAULT_NATS_URL).
  return natsBroker(nats === true ? { stream } : { servers: nats, stream });
}

const program = new Command()
  .name('troupe')
  .description('Run tasks on supervised worker threads: retries with backoff, timeouts, lossless shutdown.')
  // Errors come back here (see the end of the file) to be told in one line; subcommands inherit both settings.
  .exitOverride()
  .configureOutput({ outputError: () => {} });

program
  .command('run')
  .description('Run a JSONL file of tasks (one { "id"?, "handler"?, "payload" } per line) and write their results as JSONL.')
  .argument('<handlers>', 'the handler module (.js, or .ts under tsx): each exported function is a handler')
  .requiredOption('-i, --input <file>', 'the tasks, one JSON object per line; - for stdin')
  .option('-o, --output <file>', 'where results go, one JSON object per line; - for stdout', '-')
  .option(
    '-w, --workers <n>',
    'worker threads (default: one per core; 0 with --nats: submit only, nodes run the tasks)',
    integer('--workers', 0),
  )
  .option('--max-retries <n>', 'retries after the first attempt (default: 3)', integer('--max-retries', 0))
  .option('--timeout <ms>', 'time limit per attempt, in ms; 0 for none (default: 0)', integer('--timeout', 0))
  .option('--concurrency <n>', 'attempts each thread runs at once, for async handlers (default: 1)', integer('--concurrency', 1))
  .option(
    '--dashboard <port>',
    'serve a live dashboard on 127.0.0.1:<port> while the run lasts, at a URL with a token for it (0: any free port)',
    integer('--dashboard', 0),
  )
  .addOption(
    new Option('--in-flight <n>', 'tasks read ahead and unfinished at most; the rest of the file waits unread')
      .default(1_000)
      .argParser(integer('--in-flight', 1)),
  )
  .option(
    '--nats [url]',
    `share the work with \`troupe node\` processes through NATS JetStream (default url: $NATS_URL or ${DEFAULT_NATS_URL})`,
  )
  .option('--stream <name>', 'the JetStream stream the nodes share (with --nats)', 'troupe')
  .option(
    '--store <file>',
    'keep tasks and results in this SQLite file (needs better-sqlite3): after Ctrl-C, a crash or kill -9, the same command resumes',
  )
  .addHelpText(
    'after',
    `
Exit status: 0 when every task is done, 1 when any failed (a bad line counts as
failed: it is reported with its line number and written as a failed result),
130 after Ctrl-C, 2 for a usage error (one line on stderr, before any work). Ctrl-C stops reading, lets running attempts finish for up to
5 s, and writes every task it did not finish to <output>.unfinished.jsonl
(<input>.unfinished.jsonl when the output is stdout): run again with
--input on that file to resume.

With --store, run the same command again instead, after Ctrl-C, a crash or
kill -9: the tasks left unfinished go on, lines whose result is in the store
are written out without running again, and only the rest run. A line without
an "id" gets line-<n> (its line number), so the next run knows it.

Example:
  troupe run ./handlers.js --input tasks.jsonl --output results.jsonl --workers 4`,
  )
  .action(
    async (
      handlers: string,
      options: {
        input: string;
        output: string;
        workers?: number;
        maxRetries?: number;
        timeout?: number;
        concurrency?: number;
        inFlight: number;
        dashboard?: number;
        nats?: string | true;
        stream: string;
        store?: string;
      },
    ) => {
      if (options.workers === 0 && !options.nats)
        throw new UsageError('--workers 0 needs --nats: without a broker, something must run the tasks');
      if (options.store && options.nats)
        throw new UsageError('--store and --nats do not go together: a broker keeps the tasks on its server');
      checkFiles(options.input, options.output);
      const controller = new AbortController();
      let interrupts = 0;
      process.on('SIGINT', () => {
        // A second Ctrl-C does not wait.
        if (++interrupts > 1) process.exit(130);
        controller.abort(new Error('interrupted'));
      });
      let peakRss = process.memoryUsage.rss();
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100).unref();
      const progress = createProgress();
      const summary = await runFile({
        handlers: pathToFileURL(resolve(handlers)).href,
        input: options.input,
        output: options.output,
        // Only what was given: the processor's defaults apply to the rest.
        processor: Object.fromEntries(
          Object.entries({
            workers: options.workers,
            maxRetries: options.maxRetries,
            timeout: options.timeout,
            concurrency: options.concurrency,
            broker: options.nats ? broker(options.nats, options.stream) : undefined,
          }).filter(([, value]) => value !== undefined),
        ),
        inFlight: options.inFlight,
        ...(options.dashboard !== undefined ? { dashboard: options.dashboard } : {}),
        ...(options.store !== undefined ? { store: options.store } : {}),
        total: options.input === '-' ? undefined : await countLines(options.input),
        progress,
        signal: controller.signal,
      });
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      process.stderr.write(`\n${summary.interrupted ? 'Interrupted' : 'Summary'}\n${summaryTable(summary, peakRss / 1e6)}\n`);
      if (summary.interrupted && options.store)
        process.stderr.write(`  to resume, run the same command again (the store ${options.store} holds the rest)\n`);
      process.exitCode = summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
    },
  );

program
  .command('node')
  .description(
    'Run a worker node: take tasks from a NATS JetStream stream shared with other nodes and `troupe run --nats` clients, until Ctrl-C.',
  )
  .argument('<handlers>', 'the handler module (.js, or .ts under tsx): each exported function is a handler')
  .option('--nats [url]', `the NATS server (default: $NATS_URL or ${DEFAULT_NATS_URL})`, true)
  .option('--stream <name>', 'the JetStream stream the nodes share', 'troupe')
  .option('-w, --workers <n>', 'worker threads (default: one per core)', integer('--workers', 1))
  .option('--concurrency <n>', 'attempts each thread runs at once, for async handlers (default: 1)', integer('--concurrency', 1))
  .option('--dashboard <port>', 'serve a live dashboard of this node on 127.0.0.1:<port> (0: any free port)', integer('--dashboard', 0))
  .addHelpText(
    'after',
    `
Ctrl-C (or SIGTERM) stops taking tasks, gives the ones waiting back to the
stream for the other nodes, lets running attempts finish, stores their
results, and exits 0. Retries, time limits and the other task settings travel
with each task, from the process that submitted it.

Example (two nodes and a client, in three terminals):
  troupe node ./handlers.js --nats --stream thumbnails
  troupe node ./handlers.js --nats --stream thumbnails
  troupe run ./handlers.js --nats --stream thumbnails --workers 0 --input tasks.jsonl`,
  )
  .action(
    async (
      handlers: string,
      options: { nats: string | true; stream: string; workers?: number; concurrency?: number; dashboard?: number },
    ) => {
      const processor = createProcessor({
        handlers: pathToFileURL(resolve(handlers)).href,
        broker: broker(options.nats, options.stream),
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      });
      await processor.ready;
      const served = options.dashboard === undefined ? undefined : await serveDashboardWithToken(processor, options.dashboard);
      const dashboard = served?.dashboard;
      const { workers } = processor.getStatus();
      process.stderr.write(
        `troupe node: ${workers} worker thread${workers === 1 ? '' : 's'} on stream ${options.stream}${served ? `, dashboard at ${served.url}` : ''}; Ctrl-C stops\n`,
      );
      const stop = async () => {
        process.stderr.write('troupe node: stopping: waiting tasks go back to the stream, running ones finish\n');
        await processor.shutdown();
        await dashboard?.close();
        const { done, failed, cancelled } = processor.getStatus();
        process.stderr.write(`troupe node: stopped; it ran ${done} done, ${failed} failed, ${cancelled} cancelled\n`);
        process.exitCode = 0;
      };
      let stopping = false;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          // A second signal does not wait.
          if (stopping) process.exit(130);
          stopping = true;
          void stop();
        });
      }
    },
  );

/** The one line a failed command prints: `troupe: …`, and for a usage error a hint, then exit 2 (1 for anything else). */
function fail(error: unknown): never {
  const usage =
    error instanceof UsageError ||
    error instanceof CommanderError ||
    error instanceof InvalidOptionError ||
    error instanceof WorkerStartError;
  const message = error instanceof Error ? error.message.replace(/^error: /, '') : String(error);
  process.stderr.write(`troupe: ${message}\n`);
  if (usage) {
    const command = ['run', 'node'].includes(process.argv[2] ?? '') ? ` ${process.argv[2]}` : '';
    process.stderr.write(`run 'troupe${command} --help' for the options\n`);
    process.exit(2);
  }
  // Not the caller's mistake (a broker that cannot be reached, say): still one line, no stack, unless it is a bug.
  if (!(error instanceof TroupeError)) console.error(error);
  process.exit(1);
}

try {
  // Commander answers a bare `troupe` with the whole help: one line says it better.
  if (process.argv.length <= 2) throw new UsageError("a command is needed: 'troupe run' or 'troupe node'");
  await program.parseAsync();
} catch (error) {
  // --help and --version end here too, having printed what was asked.
  if (error instanceof CommanderError && error.exitCode === 0) process.exit(0);
  fail(error);
}
