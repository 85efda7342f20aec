import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** What the run tells its watcher: how far it is, and lines worth reading. */
export interface Progress {
  start(total: number | undefined): void;
  /** `read`: lines read so far, the total while the real one is unknown (stdin). */
  update(finished: number, counts: { readonly retrying: number; readonly failed: number; readonly processing: number }, read: number): void;
  log(line: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr (rate, ETA, done/failed/retrying counts) when it is
 * a terminal; plain lines otherwise, so logs and CI output stay readable.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) {
    return {
      start() {},
      update() {},
      log: (line) => void stream.write(`${line}\n`),
      stop() {},
    };
  }
  const bars = new MultiBar(
    {
      stream,
      format:
        ' {bar} {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted} | failed {failed} | retrying {retrying} | running {processing}',
      hideCursor: true,
      etaBuffer: 200,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let bar: SingleBar | undefined;
  let started = 0;
  let known = false;
  return {
    start(total) {
      started = performance.now();
      known = total !== undefined;
      bar = bars.create(total ?? 0, 0, { speed: '0', failed: 0, retrying: 0, processing: 0 });
    },
    update(finished, { retrying, failed, processing }, read) {
      if (!known) bar?.setTotal(read);
      const seconds = (performance.now() - started) / 1_000;
      bar?.update(finished, {
        speed: seconds > 0 ? Math.round(finished / seconds).toLocaleString('en') : '0',
        failed,
        retrying,
        processing,
      });
    },
    log: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}
