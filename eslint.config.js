// Lint with type information: typescript-eslint's type-checked rules (floating and misused promises, unsafe
// `any` flows) on the sources; tests may use `any` for JSON bodies. Formatting is prettier's (`npm run format`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pure = {
  patterns: [
    { group: ['@nestjs/*', 'ioredis', 'bullmq', 'postgres', 'node:fs', 'node:net', 'node:http', '@app/*'], message: 'learning libs stay pure: no framework, driver, I/O or app imports' },
  ],
};

export default tseslint.config(
  // The dashboard's browser modules are plain JS, type-checked from JSDoc by their own tsconfig (DOM, checkJs).
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '!apps/api/src/dashboard/web/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // Undefined names in the browser modules are tsc's to report (it knows the DOM), as typescript-eslint advises for TS.
  { files: ['apps/api/src/dashboard/web/*.js'], rules: { 'no-undef': 'off' } },
  { files: ['libs/bandits/**/*.ts', 'libs/featurizer/**/*.ts'], ignores: ['**/*.spec.ts', '**/testing/**'], rules: { 'no-restricted-imports': ['error', pure] } },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts', '**/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Async callbacks without await are the natural shape of fakes and handlers in tests.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
