// Refusing option names an API does not know, so that a misspelt or
// unsupported option is an error, not silently nothing.
import { invalidArgValue } from './errors'

/**
 * Throws ERR_INVALID_ARG_VALUE for the first own enumerable property of
 * `options` that is neither in `known` nor in `ignored` (names accepted
 * for compatibility that mean nothing here), naming the nearest known
 * name when one is close.
 */
export function rejectUnknownOptions(options: object | undefined, what: string, known: readonly string[], ignored: readonly string[] = []): void {
  if (options === undefined) return
  for (const name of Object.keys(options)) {
    if (known.includes(name) || ignored.includes(name)) continue
    const near = nearest(name, known)
    const hint = near === undefined ? '' : ` (did you mean '${near}'?)`
    throw invalidArgValue(`options.${name}`, (options as Record<string, unknown>)[name], `is not an option of ${what}${hint}`)
  }
}

/** The known name closest to `name` (edit distance, case ignored), if close enough to be a likely slip. */
function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance, in one row of memory. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}
