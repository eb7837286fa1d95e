import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.showrunner/',
      'site/dist/',
      'cdk.out/',
      'coverage/',
      'bench/results/',
      'test-results/',
      'test/fixtures/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['site/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The domain core and the contracts stay pure: no SDK, no I/O (a unit test checks the same thing).
    files: ['core/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', 'node:*', 'fs', 'http', 'net', 'child_process'],
              message: 'core/ and contract/ do no I/O',
            },
          ],
        },
      ],
    },
  },
);
