import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded the first time it is used, not when Troupe is
 * imported. rxjs, prom-client and `@opentelemetry/api` are CommonJS
 * packages: imported up front they were 100 of the 140 ms that
 * `import 'troupe'` took, and 3.9 of its 5.4 MB of heap (rxjs alone loads
 * 230 modules), paid by every process whether or not it ever reads a
 * stream, a Prometheus registry or a trace. Node's `import` of such a
 * package and this `require` resolve to the same file, so an app that
 * imports the package itself shares this very instance (the same
 * `Observable` class, the same prom-client `Registry`).
 *
 * Only for packages that are CommonJS in Node (a `require` of an ES module
 * throws on Node 20): the test in `test/package.test.ts` proves which
 * modules a processor loads. A bundler does not follow these requires; an
 * app that bundles its code keeps Troupe external anyway, since Troupe's
 * threads start from its own files (`workers/thread-entry.js`), and its
 * dependencies are then found where Troupe is installed.
 */
export function loadOnUse<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
