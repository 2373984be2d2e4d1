// The parent's end of a child's pipe, as a Node stream, in whichever
// runtime this is.
import { Socket, type SocketConstructorOpts } from 'node:net'
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable, Writable } from 'node:stream'

/**
 * Whether `net.Socket` can own a pipe descriptor here. Node's and Deno's
 * can (and read it without a thread); Bun 1.4's accepts the descriptor but
 * never reads from it or ends, so there the fs streams, which read through
 * Bun's own file reader, take it instead.
 */
const socketsTakePipes = process.versions.bun === undefined

/**
 * A stream owning pipe descriptor `fd`: readable (the child's stdout or
 * stderr) or writable (its stdin); it closes `fd` when done.
 *
 * Node's stream constructors read their options, inherited ones included:
 * the names pidset's own options share with them are given as own
 * properties, so that a polluted `Object.prototype.signal` or `.encoding`
 * cannot reach the child's pipes.
 */
export function pipeStream(fd: number, readable: true): Readable
export function pipeStream(fd: number, readable: false): Writable
export function pipeStream(fd: number, readable: boolean): Readable | Writable {
  if (socketsTakePipes) {
    return new Socket({ fd, readable, writable: !readable, signal: undefined, encoding: undefined, timeout: undefined } as SocketConstructorOpts)
  }
  const options = { fd, autoClose: true, emitClose: true, signal: undefined, encoding: undefined, start: undefined, end: undefined }
  return readable ? createReadStream('', options) : createWriteStream('', options)
}
