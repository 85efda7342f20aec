import type * as OtelApi from '@opentelemetry/api';

import { loadOnUse } from '../util/load-on-use.js';

/** The api itself, loaded on first use: for code that runs only where `registeredOtelApi` found it (a task's spans). */
export const otelApi = loadOnUse<typeof OtelApi>('@opentelemetry/api');

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps what an app registers
 * (a tracer provider, a propagator, a context manager): one object on the
 * global object, made by the first registration, so that copies of the api
 * in different packages share them.
 */
const REGISTERED = Symbol.for('opentelemetry.js.api.1');

/**
 * `@opentelemetry/api`, or `undefined` while no copy of it has had anything
 * registered: every call Troupe would make then is the api's no-op, so the
 * api is not even loaded (16 ms and 0.6 MB of an import of Troupe that
 * loaded it up front). Checked per task: an app that registers later is
 * traced from its next task.
 */
export function registeredOtelApi(): typeof OtelApi | undefined {
  return (globalThis as Record<symbol, unknown>)[REGISTERED] === undefined ? undefined : otelApi();
}
