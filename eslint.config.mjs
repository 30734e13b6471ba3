// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Orchestrators are replayed: anything that can differ between replays is banned there. */
const orchestratorImportBans = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  'openai',
  '@anthropic-ai/*',
  '@azure/identity',
  '@azure/storage-*',
  'better-sqlite3',
  '**/activities/**',
  '**/tools/**',
  '**/functions/**',
  '**/config',
  '**/config/**',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.state/**',
      'test-artifacts/**',
      'bench/peers/node_modules/**',
      'bench/peers/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // One settings loader (src/config/): handlers get plain values from their factories. Entry points that
    // own a process (src/index.ts, the CLI, the testing harness that hosts the app in-process) hand the
    // environment to the loader or to child processes.
    // Before the orchestrator block, whose own no-restricted-properties replaces this one there (and bans
    // `process` outright).
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/index.ts', 'src/cli/**', 'src/testing/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read settings in src/config/ (loadSettings) and pass the value to the factory.',
        },
      ],
    },
  },
  {
    files: ['src/orchestrators/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: orchestratorImportBans.map((group) => ({
            group: [group],
            message: 'Orchestrators are replayed: do I/O in an activity.',
          })),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Orchestrators are replayed: read configuration in an activity.' },
        { name: 'setTimeout', message: 'Use context.df.createTimer.' },
        { name: 'setInterval', message: 'Use context.df.createTimer.' },
        { name: 'setImmediate', message: 'Use context.df.createTimer.' },
        { name: 'fetch', message: 'Orchestrators are replayed: do I/O in an activity.' },
        { name: 'console', message: 'Log through context.log when !context.df.isReplaying.' },
        { name: 'crypto', message: 'Use context.df.newGuid.' },
        { name: 'performance', message: 'Use context.df.currentUtcDateTime.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use context.df.currentUtcDateTime.' },
        { object: 'Math', property: 'random', message: 'Use context.df.newGuid or an activity.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Use context.df.currentUtcDateTime.',
        },
        { selector: "CallExpression[callee.name='Date']", message: 'Use context.df.currentUtcDateTime.' },
        { selector: 'ImportExpression', message: 'No dynamic imports in orchestrators.' },
      ],
    },
  },
  {
    files: ['devhost/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/**', '../src/*'],
              message: 'devhost is generic: it imports nothing from src/.',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.mjs', '**/*.mts'], ...tseslint.configs.disableTypeChecked },
  {
    // bench/peers is its own TypeScript project whose packages are installed by `npm run bench:peers`
    // itself: without them its types are unresolved, so lint it without type information here;
    // `tsc -p bench/peers` (strict) checks its types on every bench:peers run.
    files: ['bench/peers/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Fixture and benchmark apps are plain CommonJS Functions apps, as a user would write them.
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: Object.fromEntries(
        [
          'require',
          'module',
          'exports',
          'process',
          '__dirname',
          'console',
          'setTimeout',
          'clearTimeout',
          'performance',
          'Buffer',
          'globalThis',
        ].map((g) => [g, 'readonly']),
      ),
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
