// What Subprocess.output() collects: everything a child writes to its
// piped stdout and stderr, within maxBuffer, and its exit.
import type { Readable } from 'node:stream'
import { invalidArgType, maxBufferError, outOfRange, unknownEncoding } from './errors'
import type { ChildExitInfo } from './exit-info'
import { ownOption } from './validators'

/** What `Subprocess.output()` collects. */
export interface Output<T extends string | Buffer = string> {
  /** All the child wrote to stdout ('' or empty if stdout was not piped). */
  stdout: T
  /** All the child wrote to stderr ('' or empty if stderr was not piped). */
  stderr: T
  /** How it ended. */
  exit: ChildExitInfo
}

/** Options of `Subprocess.output()`. */
export interface OutputOptions {
  /** How to decode what was written (default 'utf8'); 'buffer' for Buffers. */
  encoding?: BufferEncoding | 'buffer'
  /**
   * The most bytes kept of each stream (default 100,000,000, as execa;
   * `Infinity` for no limit). A child that writes more is stopped as a
   * timeout stops it (`killSignal`, then SIGKILL after
   * `forceKillAfterDelay`), and `output()` rejects with a RangeError
   * 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' that carries `stdout`, `stderr`
   * (what was kept) and `exit`.
   */
  maxBuffer?: number
}

/** The rejection of `Subprocess.output()` when a stream passed `maxBuffer`. */
export type MaxBufferError<T extends string | Buffer = string> = RangeError & Output<T> & { code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' }

/** The streams and exit that output() collects once, in bytes. */
export interface Collected {
  stdout: Buffer
  stderr: Buffer
  exit: ChildExitInfo
  /** The stream that passed `maxBuffer`, if one did. */
  exceeded: 'stdout' | 'stderr' | undefined
}

/** Default `maxBuffer` of `output()`, in bytes per stream. */
const DEFAULT_MAX_BUFFER = 100_000_000

/** Checks output() options: the encoding (default 'utf8') and maxBuffer (default 100,000,000). */
export function validateOutputOptions(options: unknown): { encoding: BufferEncoding | 'buffer'; maxBuffer: number } {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'of type object', options)
  const givenEncoding = ownOption(options as object | undefined, 'encoding')
  const encoding = (givenEncoding === undefined ? 'utf8' : givenEncoding) as BufferEncoding | 'buffer'
  if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) throw unknownEncoding(encoding)
  const givenMaxBuffer = ownOption(options as object | undefined, 'maxBuffer')
  const maxBuffer = givenMaxBuffer === undefined ? DEFAULT_MAX_BUFFER : givenMaxBuffer
  if (typeof maxBuffer !== 'number') throw invalidArgType('options.maxBuffer', 'of type number', maxBuffer)
  if (Number.isNaN(maxBuffer) || maxBuffer < 0) throw outOfRange('options.maxBuffer', '>= 0', maxBuffer)
  return { encoding, maxBuffer }
}

/**
 * Collects both streams (each may be null: not piped) and the exit, once.
 * A stream that passes `maxBuffer` calls `stop` (the child is terminated)
 * and stops being read.
 */
export async function collectOutput(stdout: Readable | null, stderr: Readable | null, exited: Promise<ChildExitInfo>, maxBuffer: number, stop: () => void): Promise<Collected> {
  let exceeded: Collected['exceeded']
  const stopOn = (stream: 'stdout' | 'stderr') => () => {
    if (exceeded) return
    exceeded = stream
    stop()
  }
  const [out, err, exit] = await Promise.all([collect(stdout, maxBuffer, stopOn('stdout')), collect(stderr, maxBuffer, stopOn('stderr')), exited])
  return { stdout: out, stderr: err, exit, exceeded }
}

/** The collected output in `encoding`; rejects as output() documents when a stream passed `maxBuffer`. */
export async function decodeOutput(collected: Promise<Collected>, encoding: BufferEncoding | 'buffer'): Promise<Output<string | Buffer>> {
  const { stdout, stderr, exit, exceeded } = await collected
  const output = encoding === 'buffer' ? { stdout, stderr, exit } : { stdout: stdout.toString(encoding), stderr: stderr.toString(encoding), exit }
  if (exceeded) throw maxBufferError(exceeded, output)
  return output
}

/**
 * Everything `stream` gives until it ends, as bytes, or its first `max`
 * bytes: past those it calls `exceeded` and stops reading (destroying the
 * stream, so the child's further writes fail rather than block). A stream
 * given an encoding (`setEncoding()`) hands over text, turned back into
 * bytes in that encoding, so that `max` always counts bytes.
 *
 * Events, not `for await`: Node's stream iterator reads an options object
 * whose inherited `signal` would abort it (a polluted `Object.prototype`).
 */
function collect(stream: Readable | null, max: number, exceeded: () => void): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const onData = (data: Buffer | string): void => {
      const chunk = typeof data === 'string' ? Buffer.from(data, stream.readableEncoding ?? 'utf8') : data
      if (length + chunk.length > max) {
        chunks.push(chunk.subarray(0, max - length))
        length = max
        stream.off('data', onData)
        exceeded()
        stream.destroy()
        return
      }
      chunks.push(chunk)
      length += chunk.length
    }
    const onError = (err: Error): void => {
      stream.off('close', onClose)
      reject(err)
    }
    // Resolve once its descriptor is closed too, as child_process's
    // 'close' event comes after the streams': output() leaves nothing open.
    const onClose = (): void => {
      stream.off('data', onData).off('error', onError)
      resolve(Buffer.concat(chunks))
    }
    if (stream.closed) {
      onClose()
      return
    }
    stream.on('data', onData).once('error', onError).once('close', onClose)
  })
}
