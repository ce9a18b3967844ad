// Lint rules that keep the three homes honest (ARCHITECTURE.md): core imports nothing
// of ours nor any infrastructure; providers import core only, never SQL nor each other.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const infra = ['fastify', 'fastify-plugin', '@fastify/*', 'kysely', 'pg', '@electric-sql/*', 'node:http', 'node:https', 'http', 'https', 'undici', 'pino']

export default tseslint.config(
  { ignores: ['node_modules/**', '.marketgate/**', '.tap/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: infra, message: 'core/ is the pure domain: no infrastructure imports.' },
          { group: ['**/src/**', '**/providers/**', '../src/*', '../providers/*'], message: 'core/ imports nothing outside core/.' }
        ]
      }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'core/ never reads the environment.' }]
    }
  },
  {
    files: ['providers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['kysely', 'pg', '@electric-sql/*'], message: 'providers/ never touch SQL: go through core ports.' },
          { group: ['**/src/**'], message: 'providers/ import core only.' }
        ]
      }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Config is parsed once in src/config.' }]
    }
  },
  {
    files: ['providers/heroku/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['kysely', 'pg', '@electric-sql/*', '**/src/**'], message: 'no SQL, no src in providers' }, { group: ['**/providers/aws/**', '../aws/*'], message: 'providers never import each other' }] }] }
  },
  {
    files: ['providers/aws/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['kysely', 'pg', '@electric-sql/*', '**/src/**'], message: 'no SQL, no src in providers' }, { group: ['**/providers/heroku/**', '../heroku/*'], message: 'providers never import each other' }] }] }
  }
)
