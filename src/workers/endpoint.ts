import adapter from 'comlink/dist/umd/node-adapter.js';

/**
 * Comlink's adapter from a Node `MessagePort`/`Worker` to a comlink endpoint.
 * Its typings declare an ES default export but the file is CommonJS whose
 * `module.exports` is the function itself, so under NodeNext the typed
 * default is one level too deep; the cast restores the real shape.
 */
export const nodeEndpoint = adapter as unknown as typeof adapter.default;
