// The packed tarball is what a user gets: `npm pack` (which runs `prepare`, the build), install
// the tarball into a scratch app, and use it there as ESM, as CommonJS (require(esm)), from
// TypeScript with `module: nodenext`, and through its `kafkats` bin. Then check what ships:
// LICENSE, no dangling source maps, no stale build output, no import of an undeclared package.
// scripts/test-node-versions.sh runs this file on Node 22 and 24 too.

import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const fixtures = fileURLToPath(new URL('./scratch-app', import.meta.url))

/** sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt (Debian: /usr/share/common-licenses/Apache-2.0). */
const APACHE_2_0_SHA256 = 'cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30'

interface PackageJson {
  name: string
  license?: string
  main?: string
  types?: string
  bin?: Record<string, string>
  exports: Record<string, string | Record<string, string>>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

let tmp: string
let source: string // the copy of the repository that is packed
let app: string
let installed: string // <app>/node_modules/kafkats
let shipped: Set<string> // paths in the tarball, as npm pack lists them
let pkg: PackageJson

/** Child processes get no npm_* variables from an outer `npm test` (they would steer the inner npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kafkats-tarball-'))
  // Pack a copy of what the build reads: `npm pack` rebuilds dist/ (clearing it first), which
  // must not happen under other test files that run the repository's own dist/ meanwhile.
  source = join(tmp, 'source')
  for (const f of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'DESIGN.md',
    'LICENSE',
    'src',
  ]) {
    cpSync(join(root, f), join(source, f), { recursive: true })
  }
  symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'))
  const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], {
    cwd: source,
    env: cleanEnv(),
    maxBuffer: 16 << 20,
  })
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  shipped = new Set(info!.files.map((f) => f.path))

  // Offline, with a private cache: the tarball has no dependencies, and the optional codec
  // packages (native, per platform) are omitted, so nothing needs the network.
  app = join(tmp, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'kafkats-scratch-app', private: true }))
  await run(
    'npm',
    [
      'install',
      '--offline',
      '--omit=optional',
      '--no-audit',
      '--no-fund',
      '--cache',
      join(tmp, 'npm-cache'),
      join(tmp, info!.filename),
    ],
    { cwd: app, env: cleanEnv() },
  )
  installed = join(app, 'node_modules', 'kafkats')
  pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(app, f))
}, 300_000)

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  it('ships the Apache-2.0 LICENSE that package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0')
    expect(shipped).toContain('LICENSE')
    const sha = createHash('sha256')
      .update(readFileSync(join(installed, 'LICENSE')))
      .digest('hex')
    expect(sha).toBe(APACHE_2_0_SHA256)
  })

  it('ships every file package.json points at, and nothing stale or stray', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})]
    for (const entry of Object.values(pkg.exports)) {
      targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)))
    }
    for (const target of targets) expect(shipped, `${target}`).toContain(posix.normalize(target!))

    for (const path of shipped) {
      if (!path.startsWith('dist/')) {
        expect(['LICENSE', 'README.md', 'DESIGN.md', 'package.json'], `stray file ${path}`).toContain(path)
        continue
      }
      expect(path, 'only .js and .d.ts ship in dist/').toMatch(/\.(js|d\.ts)$/)
      // Every dist file comes from a source file (the build clears dist/ first).
      const from = path.replace(/^dist\//, 'src/').replace(/\.js$|\.d\.ts$/, '.ts')
      expect(existsSync(join(root, from)), `${path} has no ${from} (stale build output)`).toBe(true)
    }
  })

  it('ships no source maps and no references to any', () => {
    // The maps would point at src/, which is not shipped; Node ignores maps unless run with
    // --enable-source-maps, and tsc's ES2022 output reads like the source anyway.
    expect([...shipped].filter((p) => p.endsWith('.map'))).toEqual([])
    for (const path of shipped) {
      if (!path.endsWith('.js') && !path.endsWith('.ts')) continue
      expect(readFileSync(join(installed, path), 'utf8'), path).not.toContain('sourceMappingURL')
    }
  })

  it('imports only node builtins, its own files and the packages it declares', () => {
    const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }))
    const builtins = new Set(builtinModules)
    const problems: string[] = []
    const computed: string[] = []
    let checked = 0
    for (const path of shipped) {
      if (!path.endsWith('.js') && !path.endsWith('.d.ts')) continue
      const found = moduleSpecifiers(path, readFileSync(join(installed, path), 'utf8'))
      if (found.computed) computed.push(path)
      for (const spec of found.specifiers) {
        checked++
        if (spec.startsWith('.')) {
          let target = posix.join(posix.dirname(path), spec)
          if (path.endsWith('.d.ts')) target = target.replace(/\.js$/, '.d.ts')
          if (!shipped.has(target)) problems.push(`${path}: '${spec}' is not in the tarball`)
        } else if (spec.startsWith('node:') ? !builtins.has(spec.slice(5)) : !builtins.has(spec)) {
          const name = spec
            .split('/')
            .slice(0, spec.startsWith('@') ? 2 : 1)
            .join('/')
          if (!declared.has(name)) problems.push(`${path}: '${spec}' is not a declared dependency`)
        }
      }
    }
    expect(problems).toEqual([])
    expect(checked).toBeGreaterThan(100) // the walk really saw the imports
    // The one import() of a computed name is OptionalPackage's; its names are checked above at
    // the `new OptionalPackage(...)` call sites. Any other would escape this check.
    expect(computed).toEqual(['dist/protocol/compression/common.js'])
  })

  it('has a kafkats bin that starts', async () => {
    const bin = readFileSync(join(installed, pkg.bin!.kafkats!), 'utf8')
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true)
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'kafkats'), ['help'], { cwd: app, timeout: 30_000 })
    expect(stdout).toMatch(/usage/i) // the flags are the CLI's business; here: it starts and exits 0
  })

  it('writes and reads through the reference broker from an ESM script', async () => {
    const { stdout, stderr } = await run(process.execPath, ['write-read.mjs'], { cwd: app, timeout: 60_000 })
    expect(stdout).toBe('esm read a=one b=two c=three\n')
    expect(stderr).toBe('')
  }, 90_000)

  it('writes and reads through the reference broker from a CommonJS script, without warnings', async () => {
    const { stdout, stderr } = await run(process.execPath, ['write-read.cjs'], { cwd: app, timeout: 60_000 })
    expect(stdout.split('\n')).toEqual([
      'cjs read 0 k1=one',
      'cjs read 1 k2=two',
      'ConfigError true KafkaTsError true KAFKATS_CONFIG',
      'same module true',
      '',
    ])
    expect(stderr).toBe('') // no ExperimentalWarning for require(esm)
  }, 90_000)

  it('type-checks with module nodenext, in CommonJS (.cts) and ESM (.mts) files', async () => {
    // The repo's TypeScript and @types/node; kafkats' own declarations are checked too (no skipLibCheck).
    const tsconfig = {
      compilerOptions: {
        module: 'nodenext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['types.cts', 'types.mts'],
    }
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig))
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, timeout: 120_000 }).catch(
      (err: { stdout: string }) => ({ stdout: err.stdout }),
    )
    expect(result.stdout).toBe('')
  }, 150_000)
})

/** Every module name a shipped file imports or requires, statically or with a literal import(). */
function moduleSpecifiers(path: string, text: string): { specifiers: string[]; computed: boolean } {
  const file = ts.createSourceFile(
    path,
    text,
    ts.ScriptTarget.ES2022,
    false,
    path.endsWith('.d.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  )
  const specifiers: string[] = []
  let computed = false
  const literal = (node: ts.Node | undefined): void => {
    if (node !== undefined && ts.isStringLiteralLike(node)) specifiers.push(node.text)
  }
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      literal(node.moduleSpecifier)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      literal(node.argument.literal)
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require'
      if (isImport || isRequire) {
        if (node.arguments[0] !== undefined && ts.isStringLiteralLike(node.arguments[0])) literal(node.arguments[0])
        else computed = true
      }
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'OptionalPackage'
    ) {
      literal(node.arguments?.[1]) // new OptionalPackage(codec, specifier, ...): a lazy import()
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return { specifiers, computed }
}
