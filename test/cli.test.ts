/** The `troupe` command, run as a user runs it: a child process on real files. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { NATS_URL, natsAvailable, removeStream, uniqueStream } from './distributed/nats.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const handlers = fileURLToPath(new URL('./fixtures/handlers.ts', import.meta.url));
const broken = fileURLToPath(new URL('./fixtures/broken-handlers.ts', import.meta.url));

function troupe(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, exited };
}

function scratch(lines: string[]): { dir: string; input: string } {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-'));
  const input = join(dir, 'tasks.jsonl');
  writeFileSync(input, `${lines.join('\n')}\n`);
  return { dir, input };
}

const jsonl = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('troupe run', () => {
  it('runs a file, reports a bad line by number, writes every result, exits 1 when any failed', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `t${i}`, payload: i }));
    lines.splice(10, 0, '{not json');
    lines.push(JSON.stringify({ id: 'bad', handler: 'alwaysFail', payload: null }));
    const { dir, input } = scratch(lines);
    const output = join(dir, 'out.jsonl');
    const { code, stderr } = await troupe(['run', handlers, '--input', input, '--output', output, '--workers', '2', '--max-retries', '0'])
      .exited;
    expect(code).toBe(1);
    expect(stderr).toContain('line 11: not JSON');
    const results = jsonl(readFileSync(output, 'utf8'));
    expect(results).toHaveLength(32);
    expect(results.filter((r) => r['status'] === 'done')).toHaveLength(30);
    expect(results.find((r) => r['line'] === 11)).toMatchObject({ status: 'failed', error: { name: 'InvalidTaskError' } });
    expect(results.find((r) => r['id'] === 'bad')).toMatchObject({ status: 'failed', attempts: 1, error: { message: 'Always fails' } });
    expect(stderr).toMatch(/Summary[\s\S]*done\s+30[\s\S]*failed\s+2 \(1 invalid line\)\n/);
  });

  it('exits 0 when every task is done, results on stdout by default', async () => {
    const { input } = scratch(Array.from({ length: 5 }, (_, i) => JSON.stringify({ payload: i * 2 })));
    const { code, stdout } = await troupe(['run', handlers, '--input', input, '--workers', '1']).exited;
    expect(code).toBe(0);
    expect(
      jsonl(stdout)
        .map((r) => r['value'])
        .sort(),
    ).toEqual([0, 2, 4, 6, 8]);
  });

  it('Ctrl-C stops, and every task is either in the results or in the resume file, once', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `s${i}`, handler: 'sleep', payload: { ms: 20 } }));
    const { input } = scratch(lines);
    const { child, exited } = troupe(['run', handlers, '--input', input, '--workers', '2', '--in-flight', '10']);
    await once(child.stdout, 'data'); // the first result is out: the run is under way
    child.kill('SIGINT');
    const { code, stdout, stderr } = await exited;
    expect(code).toBe(130);
    expect(stderr).toContain('Interrupted');
    const finished = jsonl(stdout).map((r) => r['id'] as string);
    const resume = jsonl(readFileSync(`${input}.unfinished.jsonl`, 'utf8'));
    expect(resume.every((task) => task['handler'] === 'sleep')).toBe(true);
    const ids = [...finished, ...resume.map((task) => task['id'] as string)].sort();
    expect(ids).toEqual(lines.map((line) => (JSON.parse(line) as { id: string }).id).sort());
    expect(finished.length).toBeGreaterThan(0);
    expect(resume.length).toBeGreaterThan(0);
  });

  it(
    '--store resumes after kill -9: the same command runs only the lines without a result, and writes every result once',
    { timeout: 60_000 },
    async () => {
      const count = 600;
      const { dir } = scratch([]);
      const log = join(dir, 'runs.log');
      // Half the lines name no id: they get line-<n>, so the second run knows them.
      const lines = Array.from({ length: count }, (_, i) =>
        JSON.stringify({ ...(i % 2 ? { id: `t${i}` } : {}), handler: 'logRun', payload: { log, value: i, ms: 5 } }),
      );
      const input = join(dir, 'tasks.jsonl');
      writeFileSync(input, `${lines.join('\n')}\n`);
      const store = join(dir, 'run.db');
      const args = ['run', handlers, '--input', input, '--store', store, '--workers', '2', '--concurrency', '4', '--in-flight', '100'];

      // First run, results on stdout: killed once 150 are out (each is in the store before it is written).
      const first = troupe([...args, '--output', '-']);
      const before: Array<Record<string, unknown>> = [];
      let buffered = '';
      await new Promise<void>((resolve) => {
        first.child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const done = buffered.split('\n');
          buffered = done.pop() as string;
          for (const text of done) before.push(JSON.parse(text) as Record<string, unknown>);
          if (before.length >= 150) resolve();
        });
      });
      first.child.kill('SIGKILL');
      await first.exited;

      const output = join(dir, 'out.jsonl');
      const { code, stderr } = await troupe([...args, '--output', output]).exited;
      expect(code, stderr).toBe(0);
      const results = jsonl(readFileSync(output, 'utf8'));
      // Every line once, with its value, whichever run finished it.
      expect(results).toHaveLength(count);
      expect(new Set(results.map((r) => r['line'])).size).toBe(count);
      for (const r of results) {
        const i = (r['line'] as number) - 1;
        expect(r).toMatchObject({ id: i % 2 ? `t${i}` : `line-${i + 1}`, status: 'done', value: i });
      }
      // What the first run finished came from the store: it did not run again.
      const runs = new Map<string, number>();
      for (const id of readFileSync(log, 'utf8').split('\n')) if (id) runs.set(id, (runs.get(id) ?? 0) + 1);
      for (const r of before) expect(runs.get(r['id'] as string), `${String(r['id'])} ran once`).toBe(1);
      // At least those it wrote out; a result stored just before the kill may not have been written yet.
      const fromStore = Number(/from the store\s+([\d,]+) \(finished by an earlier run/.exec(stderr)?.[1]?.replace(/,/g, ''));
      expect(fromStore).toBeGreaterThanOrEqual(before.length);
      expect(fromStore).toBeLessThan(count);

      // A third run replays every result from the store, many times the output's buffer, as fast as lines are
      // read: the same results, and no MaxListenersExceededWarning (one `drain` waiter per write used to trip it).
      const replayed = join(dir, 'replayed.jsonl');
      const third = await troupe([...args, '--output', replayed]).exited;
      expect(third.code, third.stderr).toBe(0);
      expect(third.stderr).not.toContain('MaxListenersExceededWarning');
      expect(third.stderr).toMatch(/from the store\s+600 \(finished by an earlier run/);
      expect(jsonl(readFileSync(replayed, 'utf8')).sort((a, b) => (a['line'] as number) - (b['line'] as number))).toEqual(
        results.sort((a, b) => (a['line'] as number) - (b['line'] as number)),
      );
    },
  );

  it('--dashboard serves the dashboard on loopback while the run lasts, at a URL carrying a token made for it', async () => {
    const lines = Array.from({ length: 100 }, () => JSON.stringify({ handler: 'sleep', payload: { ms: 20 } }));
    const { input } = scratch(lines);
    const { child, exited } = troupe(['run', handlers, '--input', input, '--workers', '2', '--dashboard', '0']);
    let stderr = '';
    const [url, token] = await new Promise<[string, string]>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += String(chunk);
        const found = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)#token=([\w-]{43})\n/.exec(stderr);
        if (found) resolve([found[1] as string, found[2] as string]);
      });
    });
    expect(await (await fetch(url)).text()).toContain('<title>Troupe</title>');
    // The data needs the token the URL carries.
    expect((await fetch(`${url}metrics`)).status).toBe(401);
    const metrics = await fetch(`${url}metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(await metrics.text()).toContain('troupe_tasks_submitted_total');
    expect((await exited).code).toBe(0);
  });

  it('explains itself', async () => {
    const { code, stdout } = await troupe(['run', '--help']).exited;
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: troupe run [options] <handlers>');
    expect(stdout).toContain('--input <file>');
    expect(stdout).toContain('unfinished.jsonl');
  });
});

it('a bare troupe says a command is needed, in one line, exit 2', async () => {
  const { code, stderr } = await troupe([]).exited;
  expect(code).toBe(2);
  expect(stderr).toBe("troupe: a command is needed: 'troupe run' or 'troupe node'\nrun 'troupe --help' for the options\n");
});

describe('troupe run refuses a usage error in one line, exit 2, before any work', () => {
  const { dir, input } = scratch([JSON.stringify({ id: 'a', payload: 1 })]);
  const output = join(dir, 'results.jsonl');
  it.each<[string, string[], RegExp]>([
    ['a bad value', ['run', handlers, '--input', input, '--workers', '-3'], /--workers must be an integer ≥ 0, got "-3"/],
    ['an unknown option', ['run', handlers, '--input', input, '--bogus'], /unknown option '--bogus'/],
    ['a missing input file', ['run', handlers, '--input', join(dir, 'nope.jsonl')], /cannot read --input .*nope\.jsonl: no such file/],
    [
      'an output it cannot write',
      ['run', handlers, '--input', input, '--output', join(dir, 'no/such/folder.jsonl')],
      /cannot write --output/,
    ],
    [
      'a handler module that does not exist',
      ['run', join(dir, 'nope.ts'), '--input', input, '--output', output],
      /nope\.ts failed to load/,
    ],
    [
      'a handler module that throws as it loads',
      ['run', broken, '--input', input, '--output', output],
      /failed to load: broken on purpose/,
    ],
    ['--workers 0 without --nats', ['run', handlers, '--input', input, '--workers', '0'], /--workers 0 needs --nats/],
  ])('%s', async (_label, args, message) => {
    const { code, stdout, stderr } = await troupe(args).exited;
    expect(code).toBe(2);
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^troupe: /);
    expect(lines[0]).toMatch(message);
    // At most a one-line hint; no help text, no stack trace; nothing written.
    expect(lines.slice(1)).toEqual(["run 'troupe run --help' for the options"]);
    expect(stdout).toBe('');
    expect(existsSync(output)).toBe(false);
  });
});

describe('troupe node and troupe run --nats', async () => {
  const available = await natsAvailable();

  it.skipIf(!available)('a node runs what a --workers 0 client submits, and stops cleanly on SIGTERM', async () => {
    const stream = uniqueStream('cli');
    try {
      const node = troupe(['node', handlers, '--nats', NATS_URL, '--stream', stream, '--workers', '1']);
      let stderr = '';
      await new Promise<void>((resolve) => {
        node.child.stderr.on('data', (chunk: Buffer) => {
          stderr += String(chunk);
          if (stderr.includes('Ctrl-C stops')) resolve();
        });
      });
      expect(stderr).toContain(`1 worker thread on stream ${stream}`);
      const { input } = scratch([
        ...Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `n${i}`, payload: i })),
        JSON.stringify({ id: 'bad', handler: 'alwaysFail', payload: null }),
      ]);
      const client = await troupe([
        'run',
        handlers,
        '--nats',
        NATS_URL,
        '--stream',
        stream,
        '--workers',
        '0',
        '--input',
        input,
        '--max-retries',
        '0',
      ]).exited;
      expect(client.code).toBe(1);
      const results = jsonl(client.stdout);
      expect(results).toHaveLength(21);
      expect(results.filter((r) => r['status'] === 'done').map((r) => r['value'])).toEqual(expect.arrayContaining([0, 7, 19]));
      expect(results.find((r) => r['id'] === 'bad')).toMatchObject({ status: 'failed', attempts: 1, error: { message: 'Always fails' } });
      node.child.kill('SIGTERM');
      const stopped = await node.exited;
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toContain('stopped; it ran 20 done, 1 failed');
    } finally {
      await removeStream(stream);
    }
  });
});
