/**
 * Options name a broker only through their own `Broker` interface: they
 * check that one was made by a broker's factory, and import nothing of the
 * transport.
 */
import { readdirSync, readFileSync } from 'node:fs';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { natsBroker } from '../../src/broker/options.js';
import { InvalidOptionError } from '../../src/errors/errors.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { handlers } from '../helpers/index.js';

const OPTIONS = new URL('../../src/options/', import.meta.url);

/** Every module a file imports or re-exports, type-only ones too. */
function importsOf(file: URL): string[] {
  const source = ts.createSourceFile(file.pathname, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  source.forEachChild((node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    }
  });
  return found;
}

describe('the broker option', () => {
  it('takes what natsBroker() makes, as it is', () => {
    const broker = natsBroker({ servers: 'nats://127.0.0.1:4222', stream: 'options-test' });
    expect(resolveOptions({ handlers, broker }).broker).toBe(broker);
  });

  it.each([{ kind: 'nats' }, { kind: 'redis' }, { open: () => undefined }, 'nats', null])('refuses %j, naming `broker`', (broker) => {
    const refuse = () => resolveOptions({ handlers, broker: broker as never });
    expect(refuse).toThrow(InvalidOptionError);
    expect(refuse).toThrow(expect.objectContaining({ option: 'broker', message: expect.stringContaining('to be made by natsBroker()') }));
  });

  it('is named by an interface of the options: no file of src/options imports src/broker', () => {
    const files = readdirSync(OPTIONS).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const imports = importsOf(new URL(name, OPTIONS));
      expect(
        imports.filter((path) => path.includes('/broker/')),
        name,
      ).toEqual([]);
    }
  });
});
