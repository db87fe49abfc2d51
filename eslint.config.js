// ESLint 9 flat config: the repo's one linter and its one formatter (`pnpm lint`, `pnpm format`).
// Style is neostandard with TypeScript (what libp2p's aegir uses): no semicolons, single quotes,
// a space before function parens. Its stylistic rules are fixable, so `eslint --fix` formats.
import neostandard from 'neostandard'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import ts from 'typescript'

/** Files nobody writes by hand. */
const GENERATED = ['protocol/src/pb/**']

/** Build output, dependencies and run-time leftovers (see .gitignore). */
const IGNORED = [
  '**/dist/**',
  '**/node_modules/**',
  '**/*.tsbuildinfo',
  '.diststream/**',
  'node/test-artifacts/**',
  'bench-results/**',
  ...GENERATED
]

const TS_FILES = ['**/*.ts', '**/*.tsx']

/**
 * `promise.catch(() => {})` swallows an error without a trace. A handler must log or count the
 * failure, or hold a comment saying why ignoring it is right (`.catch(() => { /* why *\/ })`).
 * Core `no-empty-function` cannot be narrowed to `.catch`, hence this small local rule.
 */
const noEmptyCatchCallback = {
  meta: {
    type: 'problem',
    docs: { description: 'disallow an empty function as a promise rejection handler' },
    messages: { empty: 'Empty rejection handler: log or count the error, or say in a comment why ignoring it is right.' },
    schema: []
  },
  create (context) {
    const sourceCode = context.sourceCode
    const isEmpty = (fn) =>
      fn != null &&
      (fn.type === 'ArrowFunctionExpression' || fn.type === 'FunctionExpression') &&
      fn.body.type === 'BlockStatement' &&
      fn.body.body.length === 0 &&
      sourceCode.getCommentsInside(fn.body).length === 0
    return {
      CallExpression (node) {
        const callee = node.callee
        if (callee.type !== 'MemberExpression' || callee.property.type !== 'Identifier') return
        const name = callee.property.name
        const handler = name === 'catch' ? node.arguments[0] : name === 'then' ? node.arguments[1] : undefined
        if (isEmpty(handler)) context.report({ node: handler, messageId: 'empty' })
      }
    }
  }
}

/** Relative imports of one file (`import type` and `export ... from` included), cached by mtime. */
const importCache = new Map()
function relativeImports (file) {
  let mtimeMs
  try {
    mtimeMs = statSync(file).mtimeMs
  } catch {
    return [] // not on disk (an editor buffer): it has no outgoing edges we can follow
  }
  const hit = importCache.get(file)
  if (hit?.mtimeMs === mtimeMs) return hit.targets
  const targets = []
  for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (!fileName.startsWith('.')) continue // packages cannot form cycles: tsc -b forbids circular references
    const target = resolveRelative(dirname(file), fileName)
    if (target != null) targets.push({ spec: fileName, target })
  }
  importCache.set(file, { mtimeMs, targets })
  return targets
}

/** `./x.js` → `./x.ts` (NodeNext), `./x` → `./x.ts` or `./x/index.ts` (bundler). */
function resolveRelative (dir, spec) {
  const base = resolve(dir, spec.replace(/\.(m|c)?jsx?$/, ''))
  for (const candidate of [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`]) {
    try {
      if (statSync(candidate).isFile()) return candidate
    } catch { /* not this candidate: try the next */ }
  }
  return null
}

/** The shortest import path from `from` back to `to`, or null. */
function pathBack (from, to) {
  const parent = new Map([[from, null]])
  const queue = [from]
  while (queue.length > 0) {
    const file = queue.shift()
    for (const { target } of relativeImports(file)) {
      if (parent.has(target)) continue
      parent.set(target, file)
      if (target === to) {
        const path = []
        for (let f = target; f != null; f = parent.get(f)) path.unshift(f)
        return path
      }
      queue.push(target)
    }
  }
  return null
}

/**
 * Import cycles between files, `import type` included (import-x/no-cycle skips type imports, and
 * a type cycle is still a design cycle: a leaf `types.ts`/`errors.ts` breaks it).
 */
const noTypeCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'disallow import cycles between relative imports, type imports included' },
    messages: { cycle: 'Import cycle: {{path}}. Move what both sides need into a leaf file (types.ts, errors.ts).' },
    schema: []
  },
  create (context) {
    const file = context.physicalFilename
    const root = context.cwd
    const check = (node) => {
      const spec = node.source?.value
      if (typeof spec !== 'string' || !spec.startsWith('.')) return
      const target = resolveRelative(dirname(file), spec)
      if (target == null) return
      const back = pathBack(target, file)
      if (back == null) return
      const path = [file, ...back].map((f) => relative(root, f)).join(' → ')
      context.report({ node, messageId: 'cycle', data: { path } })
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check }
  }
}

export default [
  ...neostandard({ ts: true, ignores: IGNORED }),

  {
    name: 'diststream/rules',
    files: TS_FILES,
    plugins: {
      'import-x': importX,
      diststream: { rules: { 'no-empty-catch-callback': noEmptyCatchCallback, 'no-type-cycle': noTypeCycle } }
    },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      // Resolves `./x.js` to `./x.ts` and workspace packages through their tsconfig.
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })]
    },
    rules: {
      // A leaf types.ts/errors.ts breaks a cycle (ARCHITECTURE.md, "Code map and conventions").
      // import-x/no-cycle: runtime cycles, through workspace packages too; no-type-cycle: the
      // same between files of a package with `import type` counted.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'diststream/no-type-cycle': 'error',
      // A file past 400 lines holds more than one job; split it along its jobs (counted as
      // `wc -l` counts them, comments and blank lines included).
      'max-lines': ['warn', { max: 400, skipBlankLines: false, skipComments: false }],
      // A function past 80 lines of code does several steps; name them (not in tests: a test's
      // body is its script).
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      'diststream/no-empty-catch-callback': 'error',
      // `_` names a value deliberately unused (`for await (const _ of stream)` drains a stream).
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
      // No trailing commas anywhere, as ts-standard had it (neostandard's TS config ignores them
      // in lists, imports and exports; every package but media was already written without).
      '@stylistic/comma-dangle': ['error', 'never'],
      // ts-standard's setting, the repo's idiom for a promise deliberately not awaited: `void p()`.
      'no-void': ['error', { allowAsStatement: true }],
      // `catch {}` needs a comment saying why ignoring the error is right.
      'no-empty': ['error', { allowEmptyCatch: false }]
    }
  },

  {
    name: 'diststream/tests',
    files: ['**/test/**', '**/bench/**'],
    rules: {
      'max-lines-per-function': 'off',
      // Tests and benches loop on flags that callbacks and timers set (`while (!done)`); the
      // rule cannot see those writes.
      'no-unmodified-loop-condition': 'off'
    }
  }
]
