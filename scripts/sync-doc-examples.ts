/**
 * Puts each example a doc quotes back into it verbatim: every ```ts block
 * whose first line names `// examples/<file>.ts` is replaced by that file.
 * Run after changing or formatting an example (`npm run docs:examples`);
 * test/examples.test.ts fails while a quote differs from its file.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
/** The pages of a docs folder: `docs/` and, for each part's detail, `docs/internals/`. */
const pagesIn = (folder: string) =>
  readdirSync(`${root}${folder}`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `${folder}/${name}`);
const pages = ['README.md', ...pagesIn('docs'), ...pagesIn('docs/internals')];
const BLOCK = /```ts\n(\/\/ (examples\/[\w.-]+\.ts)\n[\s\S]*?)```/g;

for (const page of pages) {
  const text = readFileSync(`${root}${page}`, 'utf8');
  const synced = text.replace(BLOCK, (_block, _body: string, file: string) => '```ts\n' + readFileSync(`${root}${file}`, 'utf8') + '```');
  if (synced !== text) {
    writeFileSync(`${root}${page}`, synced);
    console.log(`synced ${page}`);
  }
}
