// examples/cli-handlers.ts
/**
 * The handler module for `troupe run` in docs/cli.md: each line of
 * examples/cli-tasks.jsonl names one of these (or none: the default).
 */
export default function wordCount(payload: { text: string }): number {
  return payload.text.split(/\s+/).filter(Boolean).length;
}

export function shout(payload: { text: string }): string {
  if (payload.text.length === 0) throw new Error('nothing to shout');
  return payload.text.toUpperCase();
}
