/** Public generic types; checked by `npm run typecheck` (tsc), which CI runs. */
import { from, type Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';

import type {
  ActorRef,
  ActorSnapshot,
  Broker,
  CancelledResult,
  ClusterStatus,
  DoneResult,
  FailedResult,
  NatsBroker,
  Processor,
  ProcessorEvent,
  ProcessorOptions,
  ProcessorStatus,
  TaskError,
  TaskHandler,
  TaskResult,
  TraceContext,
  VirtualActorRef,
} from '../src/index.js';
import { natsBroker } from '../src/index.js';

describe('public types', () => {
  it('result<T> narrows on status', () => {
    expectTypeOf<Processor['result']>().returns.toEqualTypeOf<Promise<TaskResult<unknown>>>();
    const narrow = (result: TaskResult<number>) => {
      if (result.status === 'done') expectTypeOf(result.value).toEqualTypeOf<number>();
      else if (result.status === 'failed') expectTypeOf(result.error).toEqualTypeOf<TaskError>();
      else expectTypeOf(result.reason).toEqualTypeOf<string>();
    };
    expectTypeOf(narrow).parameter(0).toEqualTypeOf<DoneResult<number> | FailedResult | CancelledResult>();
  });

  it('events narrow on type', () => {
    const onEvent = (event: ProcessorEvent) => {
      if (event.type === 'task.retrying') expectTypeOf(event.delay).toEqualTypeOf<number>();
      if (event.type === 'task.failed') expectTypeOf(event.result).toEqualTypeOf<FailedResult>();
      if (event.type === 'worker.exited') expectTypeOf(event.exitCode).toEqualTypeOf<number | null>();
    };
    expectTypeOf(onEvent).toBeFunction();
  });

  it('task events relayed by a broker name their node; other events do not have one', () => {
    const onEvent = (event: ProcessorEvent) => {
      if (event.type === 'task.done') expectTypeOf(event.node).toEqualTypeOf<string | undefined>();
      if (event.type === 'worker.started') expectTypeOf(event).not.toHaveProperty('node');
    };
    expectTypeOf(onEvent).toBeFunction();
    expectTypeOf(natsBroker).returns.toEqualTypeOf<NatsBroker>();
    expectTypeOf<NatsBroker>().toMatchTypeOf<NonNullable<ProcessorOptions['broker']>>();
    expectTypeOf<NonNullable<ProcessorOptions['broker']>>().toEqualTypeOf<Broker>();
    expectTypeOf<NatsBroker['kind']>().toEqualTypeOf<'nats'>();
    expectTypeOf<ProcessorStatus['cluster']>().toEqualTypeOf<ClusterStatus | undefined>();
  });

  it('a handler takes its payload and a context (with its trace context when the app traces)', () => {
    const resize: TaskHandler<{ url: string }, number> = async (payload, ctx) => {
      expectTypeOf(payload.url).toEqualTypeOf<string>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>();
      expectTypeOf(ctx.traceContext).toEqualTypeOf<TraceContext | undefined>();
      expectTypeOf<TraceContext>().toEqualTypeOf<{ readonly traceparent: string; readonly tracestate?: string }>();
      return 1;
    };
    expectTypeOf(resize).returns.toEqualTypeOf<number | Promise<number>>();
  });

  it('submit refuses a task without a payload at compile time', () => {
    const submit = (processor: Processor) => {
      // @ts-expect-error payload is required
      processor.submit({ id: 'x' });
    };
    expectTypeOf(submit).toBeFunction();
  });

  it('an ActorRef is an rxjs interop Observable of its snapshots', () => {
    const snapshots = (ref: ActorRef) => from(ref);
    expectTypeOf(snapshots).returns.toEqualTypeOf<Observable<ActorSnapshot>>();
  });

  it('actorOf gives a VirtualActorRef at once: an interop Observable too, whose snapshot may not exist yet', () => {
    expectTypeOf<Processor['actorOf']>().returns.toEqualTypeOf<VirtualActorRef>();
    expectTypeOf<VirtualActorRef['getSnapshot']>().returns.toEqualTypeOf<ActorSnapshot | undefined>();
    expectTypeOf<VirtualActorRef['ask']>().returns.toEqualTypeOf<Promise<ActorSnapshot>>();
    const snapshots = (ref: VirtualActorRef) => from(ref);
    expectTypeOf(snapshots).returns.toEqualTypeOf<Observable<ActorSnapshot>>();
  });
});
