/** Types of handlers.mjs, so the TypeScript benchmark code can import it directly. */
export declare function noop<T>(payload: T): T;
export declare function cpu(payload: { n: number; seed: number }): number;
export declare function spin(n: number, seed: number): number;
export declare function flaky(payload: { i: number; attempt?: number }, ctx?: { attempt: number }): number;
export declare function sleep(payload: { ms: number }): Promise<number>;
