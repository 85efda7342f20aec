/**
 * Where a worker actor's thread is in its life. Each phase carries what
 * only it has: the attempt running isolated, the attempt the thread was
 * killed for, what a thread being stopped was doing until then.
 */
export type WorkerPhase =
  /** Made; `start` creates its thread. */
  | { readonly name: 'idle' }
  /** Its thread loads the handler module. */
  | { readonly name: 'starting' }
  /**
   * Up, and in the pool. `use` says what it takes: `open`, any attempt;
   * `reserved`, nothing new until it is empty, so that an attempt can run
   * isolated on it.
   */
  | { readonly name: 'ready'; readonly use: 'open' | 'reserved' }
  /** Up, running the attempt `token` isolated: nothing else is sent to it until that settles, and then it is `then`. */
  | { readonly name: 'ready'; readonly use: 'isolated'; readonly token: number; readonly then: 'open' | 'reserved' }
  /** Leaving the pool (a scale down): takes nothing new, and is stopped once it holds nothing. */
  | { readonly name: 'retiring' }
  /**
   * Being terminated by its actor: the attempt `killedFor` ran on past its
   * abort's grace, and terminating the thread is the only way to stop
   * synchronous JavaScript. Its exit is a crash. `was`: ready or retiring.
   */
  | { readonly name: 'killing'; readonly killedFor: number; readonly was: 'ready' | 'retiring' }
  /** Being stopped at the supervisor's request: its exit is expected. `was`: what it was until then. */
  | { readonly name: 'stopping'; readonly was: 'starting' | 'ready' | 'retiring' }
  /** Its thread could not be created, or the handler module failed to load: reported as a failed start. */
  | { readonly name: 'failed' }
  /** Its thread has exited. */
  | { readonly name: 'exited' };

/** A worker's state as `metrics().workers[].state` reports it. */
export type WorkerState = 'idle' | 'starting' | 'ready' | 'retiring' | 'failed' | 'exited';

// The phases without data, made once: a worker moves between them without allocating.
const IDLE: WorkerPhase = { name: 'idle' };
const STARTING: WorkerPhase = { name: 'starting' };
const OPEN: WorkerPhase = { name: 'ready', use: 'open' };
const RESERVED: WorkerPhase = { name: 'ready', use: 'reserved' };
const RETIRING: WorkerPhase = { name: 'retiring' };
const FAILED: WorkerPhase = { name: 'failed' };
const EXITED: WorkerPhase = { name: 'exited' };

/**
 * A worker actor's lifecycle: one phase, moved by the verbs below and read
 * by getters that change nothing (as the processor's lifecycle is). Owned
 * by the worker actor; the pool and the dispatcher read it through the
 * actor. A verb that does not apply to the phase changes nothing.
 *
 * `idle` → `starting` → `ready` (`open`, `reserved`, `isolated`) →
 * `retiring`; a start ends `failed` instead; a thread that is up may be
 * `killing` (by its actor) or `stopping` (by the supervisor); every thread
 * ends `exited`.
 */
export class WorkerLifecycle {
  #phase: WorkerPhase = IDLE;

  get phase(): WorkerPhase {
    return this.#phase;
  }

  /** What `metrics()` reports: a phase on its way out shows what it was until then. */
  get state(): WorkerState {
    const phase = this.#phase;
    switch (phase.name) {
      case 'killing':
      case 'stopping':
        return phase.was;
      default:
        return phase.name;
    }
  }

  get isIdle(): boolean {
    return this.#phase.name === 'idle';
  }

  get isStarting(): boolean {
    return this.#phase.name === 'starting';
  }

  /** In the pool, whatever it takes (see `takesWork`). */
  get isReady(): boolean {
    return this.#phase.name === 'ready';
  }

  /** Ready, taking any attempt: neither reserved nor running one isolated. Read per task. */
  get takesWork(): boolean {
    const phase = this.#phase;
    return phase.name === 'ready' && phase.use === 'open';
  }

  /** Kept for an attempt to run isolated: it takes nothing new until it is empty (also while it still runs one isolated). */
  get isReserved(): boolean {
    const phase = this.#phase;
    return phase.name === 'ready' && (phase.use === 'reserved' || (phase.use === 'isolated' && phase.then === 'reserved'));
  }

  /** Leaving the pool, until its thread has exited (a retiring thread killed or stopped is still leaving). */
  get isRetiring(): boolean {
    const phase = this.#phase;
    return phase.name === 'retiring' || ((phase.name === 'killing' || phase.name === 'stopping') && phase.was === 'retiring');
  }

  /** Its thread has loaded and is neither being stopped nor gone: it takes orders. */
  get isUp(): boolean {
    const { name } = this.#phase;
    return name === 'ready' || name === 'retiring' || name === 'killing';
  }

  /** `stop` was called, and the thread has not exited yet. */
  get isStopping(): boolean {
    return this.#phase.name === 'stopping';
  }

  get hasExited(): boolean {
    return this.#phase.name === 'exited';
  }

  /** Its thread is being created. */
  start(): void {
    if (this.#phase.name === 'idle') this.#phase = STARTING;
  }

  /** The handler module loaded: in the pool, open to any attempt. */
  loaded(): void {
    if (this.#phase.name === 'starting') this.#phase = OPEN;
  }

  /** The thread could not be created, or the module failed to load. */
  fail(): void {
    if (this.#phase.name === 'idle' || this.#phase.name === 'starting') this.#phase = FAILED;
  }

  /** Takes nothing new until it is empty; one running an attempt isolated is reserved once that settles. */
  reserve(): void {
    const phase = this.#phase;
    if (phase.name !== 'ready') return;
    if (phase.use === 'open') this.#phase = RESERVED;
    else if (phase.use === 'isolated' && phase.then === 'open') this.#phase = { ...phase, then: 'reserved' };
  }

  /** No attempt to isolate waits for it any more: it takes work again (after the one it runs isolated, if any). */
  unreserve(): void {
    const phase = this.#phase;
    if (phase.name !== 'ready') return;
    if (phase.use === 'reserved') this.#phase = OPEN;
    else if (phase.use === 'isolated' && phase.then === 'reserved') this.#phase = { ...phase, then: 'open' };
  }

  /** Runs the attempt `token` isolated: it takes nothing else until that settles, then takes any attempt. */
  isolate(token: number): void {
    if (this.#phase.name === 'ready') this.#phase = { name: 'ready', use: 'isolated', token, then: 'open' };
  }

  /** The attempt `token` settled: if it ran isolated, the thread takes what it took before. Called per task. */
  settled(token: number): void {
    const phase = this.#phase;
    if (phase.name === 'ready' && phase.use === 'isolated' && phase.token === token) this.#phase = phase.then === 'open' ? OPEN : RESERVED;
  }

  /** Leaves the pool: takes nothing new. A thread being killed goes on being killed, and its exit is still a crash. */
  retire(): void {
    const phase = this.#phase;
    if (phase.name === 'ready') this.#phase = RETIRING;
    else if (phase.name === 'killing' && phase.was === 'ready') this.#phase = { ...phase, was: 'retiring' };
  }

  /** Its actor terminates the thread for the attempt `token`; the first such attempt is the one named. */
  kill(token: number): void {
    const phase = this.#phase;
    if (phase.name === 'ready' || phase.name === 'retiring') this.#phase = { name: 'killing', killedFor: token, was: phase.name };
  }

  /**
   * The supervisor stops it: its exit will be expected (also for a thread
   * being killed: the supervisor wanted it gone anyway). One never started
   * has nothing to stop and is over at once.
   */
  stop(): void {
    const phase = this.#phase;
    switch (phase.name) {
      case 'idle':
        this.#phase = EXITED;
        return;
      case 'starting':
      case 'ready':
      case 'retiring':
        this.#phase = { name: 'stopping', was: phase.name };
        return;
      case 'killing':
        this.#phase = { name: 'stopping', was: phase.was };
        return;
      default:
        return;
    }
  }

  /** The thread exited. Returns the phase it exited from: what the supervisor is to learn of the exit depends on it. */
  exit(): WorkerPhase {
    const phase = this.#phase;
    this.#phase = EXITED;
    return phase;
  }
}
