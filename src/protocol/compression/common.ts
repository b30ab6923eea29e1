// Helpers shared by the codecs: typed errors, the output budget, and lazy loading of the
// optional native packages.

import { CodecUnavailableError, CorruptRecordError } from '../../errors.js'

/** A compressed payload that does not decode (truncated, bit-flipped, not this codec). */
export function corrupt(codec: string, message: string, cause?: unknown): CorruptRecordError {
  return new CorruptRecordError(`${codec}: ${message}`, cause === undefined ? undefined : { cause })
}

/** Decoding would produce more than the caller allows; reported before allocating it. */
export function tooLarge(codec: string, maxOutputBytes: number): CorruptRecordError {
  return new CorruptRecordError(`${codec}: decompressed data exceeds the limit of ${maxOutputBytes} bytes`)
}

export function checkBudget(maxOutputBytes: number): void {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`)
  }
}

/**
 * A lazily imported optional package. The import runs once, on first use; its outcome (module
 * or failure) is cached so a missing package costs one failed resolution, not one per batch.
 * The specifier is passed as a variable so TypeScript and bundlers do not require the package
 * at build time: an install without optional dependencies must still build and run.
 */
export class OptionalPackage<T> {
  private loading: Promise<T> | undefined

  constructor(
    readonly codec: string,
    readonly specifier: string,
    readonly packageName: string,
    private readonly pick: (mod: Record<string, unknown>) => T | undefined,
    private readonly alternative = '',
  ) {}

  load(): Promise<T> {
    this.loading ??= this.importIt()
    return this.loading
  }

  async available(): Promise<boolean> {
    try {
      await this.load()
      return true
    } catch {
      return false
    }
  }

  private async importIt(): Promise<T> {
    let mod: Record<string, unknown>
    try {
      mod = (await import(this.specifier)) as Record<string, unknown>
    } catch (err) {
      throw this.unavailable(err)
    }
    // CommonJS natives arrive as `default`; named exports only where cjs-module-lexer saw them.
    const api =
      this.pick(mod) ??
      (typeof mod.default === 'object' && mod.default !== null
        ? this.pick(mod.default as Record<string, unknown>)
        : undefined)
    if (api === undefined) throw this.unavailable(new Error(`'${this.specifier}' does not export the expected API`))
    return api
  }

  private unavailable(cause: unknown): CodecUnavailableError {
    return new CodecUnavailableError(
      `${this.codec} compression needs the optional package '${this.packageName}' (npm install ${this.packageName})${this.alternative}`,
      { cause },
    )
  }
}

/** Concatenate decoded parts whose total the caller has already kept within budget. */
export function concatParts(parts: Buffer[], total: number): Buffer {
  if (parts.length === 1 && parts[0]!.length === total) return parts[0]!
  return Buffer.concat(parts, total)
}
