import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // The storefront runs in the browser: the browser's globals, and none of Node's.
  {
    files: ['storefront/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...Object.fromEntries(Object.keys(globals.node).map((name) => [name, 'off'])), ...globals.browser } },
    rules: {
      // Type checking cannot catch these (common's declarations bring Node's types along): the bundle would fail in the browser.
      'no-restricted-globals': ['error', 'process', 'Buffer', 'global', '__dirname', '__filename', 'require', 'module'],
      // The API's contract is imported for its types only: nothing from the server may end up in the bundle.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@market/common', message: 'Import types only (import type …).', allowTypeImports: true }], patterns: [{ group: ['node:*'], message: 'The browser has no Node modules.' }] },
      ],
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' } },
  { files: ['**/test/**/*.ts', 'test/**/*.ts', 'bench/**'], rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
);
