/**
 * Every numeric or boolean default in `DEFAULTS` (options/defaults.ts) is the
 * value its option's `@defaultValue` states in options/types.ts, which is
 * what users read in their editor: changing one without the other fails
 * here. Read with the TypeScript compiler, from the source.
 */
import { readFileSync } from 'node:fs';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { DEFAULTS } from '../../src/options/defaults.js';

const SOURCE = new URL('../../src/options/types.ts', import.meta.url);

/** Each interface's properties with a `@defaultValue`: interface → property → the tag's text. */
function documentedDefaults(): Map<string, Map<string, string>> {
  const file = ts.createSourceFile('types.ts', readFileSync(SOURCE, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, Map<string, string>>();
  file.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const properties = new Map<string, string>();
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
      const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'defaultValue');
      if (tag) properties.set(member.name.text, ts.getTextOfJSDocComment(tag.comment) ?? '');
    }
    found.set(node.name.text, properties);
  });
  return found;
}

/** The value a tag's text starts with (`64 (16 with a broker)` → `64`; `30_000` → `30000`). */
function leadingValue(text: string): string {
  return (text.split(/\s/)[0] ?? '').replaceAll('_', '');
}

describe('DEFAULTS and the documented defaults', () => {
  const documented = documentedDefaults();
  const cases: Array<[string, string, unknown]> = [];
  const add = (iface: string, object: object) => {
    for (const [key, value] of Object.entries(object)) {
      if (typeof value === 'number' || typeof value === 'boolean') cases.push([iface, key, value]);
    }
  };
  const { backoff, retention, restart, idleTimeout, ...top } = DEFAULTS;
  add('ProcessorOptions', top);
  add('BackoffOptions', backoff);
  add('RetentionOptions', retention);
  add('RestartOptions', restart);
  add('ElasticWorkers', { idleTimeout });

  it.each(cases)('%s.%s', (iface, key, value) => {
    const text = documented.get(iface)?.get(key);
    if (key === 'workers') return; // `os.availableParallelism()`: the machine's, not a constant.
    if (key === 'brokerWindow') {
      expect(documented.get('ProcessorOptions')?.get('window')).toContain(`${String(value)} with a \`broker\``);
      return;
    }
    if (key === 'timeout' && value === 0) {
      expect(text).toMatch(/^undefined \(no limit\)/);
      return;
    }
    expect(text, `${iface}.${key} has a @defaultValue`).toBeDefined();
    expect(leadingValue(text as string)).toBe(String(value));
  });
});
