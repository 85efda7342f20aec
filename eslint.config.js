// ESLint, type-aware (typescript-eslint), over everything TypeScript in the
// repository. Formatting is Prettier's job (`npm run format`), so the rules
// that would fight it are off (eslint-config-prettier); imports are sorted
// by simple-import-sort; cycles are checked by dpdm (`npm run lint:cycles`),
// which counts type-only imports too.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'test-results/', '**/*.mjs', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A handler is async by contract (it may return a promise); one that
      // awaits nothing is still written `async`, as users write theirs.
      '@typescript-eslint/require-await': 'off',
      // A variable a closure reads before its one assignment cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Reasons from elsewhere (a signal's, a thread's) are passed on as they are.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    // vitest's asymmetric matchers (expect.anything(), expect.any()) are typed `any`.
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['test/fixtures/**/*.ts'],
    rules: {
      // Fixtures misbehave on purpose, as users' handlers do: they throw strings and exit mid-switch.
      '@typescript-eslint/only-throw-error': 'off',
      'no-fallthrough': 'off',
    },
  },
  prettier,
);
