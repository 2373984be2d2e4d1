// Containment: a spawn() child in a cgroup (v2) of its own, so that killing
// it takes every process it ever started, setsid'd and double-forked ones
// included (crates/pidset/src/cgroup.rs).
import { constants } from 'node:os'
import { NativeCgroup } from './binding'
import { failedWith, fromNative, invalidArgType, invalidArgValue, native } from './errors'
import type { ExitInfo } from './exit-info'
import { PidFd } from './pid-fd'
import { kAdopt } from './pid-fd-protocol'
import { PidSet } from './pid-set'
import type { KillTreePlan } from './tree'

/** spawn()'s `cgroup` option, checked: where to create the cgroup (`null`: under this process's own), or undefined for none. */
export function validateCgroupOption(value: unknown): string | null | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return null
  if (typeof value !== 'string') throw invalidArgType('options.cgroup', 'of type boolean or string', value)
  if (!value.startsWith('/') || value.includes('\u0000')) throw invalidArgValue('options.cgroup', value, 'must be an absolute path to a cgroup v2 directory')
  return value
}

/** The cgroups this process made and has not removed yet. */
const live = new Set<Containment>()
let exitHookAdded = false

/**
 * At exit, every cgroup this process made that is empty by then is
 * removed: the common case of a contained child that was never killed
 * through killTree(). One whose processes live on stays, as systemd's
 * scopes do while they have processes.
 */
function removeEmptiedAtExit(): void {
  for (const containment of live) {
    try {
      containment.release()
    } catch {
      // Nothing more can be done at exit.
    }
  }
}

/** A child's cgroup, from its creation until it is removed. */
export class Containment {
  readonly #cgroup: NativeCgroup
  #removed = false

  /**
   * Creates the cgroup (under `parent`, or this process's own); with
   * `diesWithUs`, inside the guard cgroup that a sentinel kills when this
   * process ends (crates/pidset/src/cgroup_guard.rs). Throws why it cannot.
   */
  constructor(parent: string | null, diesWithUs: boolean) {
    this.#cgroup = native(undefined, () => NativeCgroup.create(parent ?? undefined, diesWithUs))
    live.add(this)
    if (!exitHookAdded) {
      exitHookAdded = true
      process.once('exit', removeEmptiedAtExit)
    }
  }

  /** What spawnChild() puts the child in. */
  get native(): NativeCgroup {
    return this.#cgroup
  }

  /** Its directory. */
  get path(): string {
    return this.#cgroup.path
  }

  /**
   * Sends `signal` to every process in the cgroup (SIGKILL through
   * `cgroup.kill`; any other signal with the cgroup frozen meanwhile), and
   * settles as `plan` says: how many processes there were, or with `wait`
   * their exits once the cgroup is empty, which it then removes.
   */
  async kill(signal: number, plan: KillTreePlan): Promise<number | ExitInfo[]> {
    // Listed first, while they run, so that their exits can be awaited.
    const members = this.#members()
    let count = members.length
    try {
      if (signal === constants.signals.SIGKILL) native(undefined, () => this.#cgroup.kill())
      else count = native(undefined, () => this.#cgroup.signal(signal))
    } catch (err) {
      for (const member of members) member.close()
      throw err
    }
    if (!plan.wait) {
      for (const member of members) member.close()
      return count
    }
    let timer: NodeJS.Timeout | undefined
    if (plan.forceKillAfterDelay > 0) {
      timer = setTimeout(() => {
        try {
          this.#cgroup.kill()
        } catch {
          // Removed meanwhile: nothing is left to kill.
        }
      }, plan.forceKillAfterDelay)
    }
    try {
      const exits = await waitAll(members)
      exits.push(...(await this.#emptied()))
      return exits
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Waits, through its members' pidfds, until no process is left in the
   * cgroup, then removes it; resolves with the exits seen. A process leaves
   * its cgroup as it exits, before its pidfd polls readable, so once every
   * member listed has exited, the cgroup is empty unless one forked
   * meanwhile, and those are listed on the next round.
   */
  async #emptied(): Promise<ExitInfo[]> {
    const exits: ExitInfo[] = []
    for (;;) {
      const members = this.#members()
      if (members.length === 0) break
      exits.push(...(await waitAll(members)))
    }
    this.release()
    return exits
  }

  /** Removes the cgroup if it is empty; a cgroup still in use stays. */
  release(): void {
    if (this.#removed) return
    try {
      this.#cgroup.remove()
      this.#removed = true
      live.delete(this)
    } catch (err) {
      // EBUSY: processes are still in it; it stays until they are killed.
      if (!failedWith(err, 'cgroup', constants.errno.EBUSY)) throw fromNative(err)
    }
  }

  /** Its processes now; none once it was removed (it was empty then, and nothing can join). */
  #members(): PidFd[] {
    if (this.#removed) return []
    return native(undefined, () => this.#cgroup.members()).map((handle) => PidFd[kAdopt](handle))
  }
}

/** The exits of `members`, once all have exited; the handles are closed then. */
async function waitAll(members: PidFd[]): Promise<ExitInfo[]> {
  if (members.length === 0) return []
  let set: PidSet | undefined
  try {
    set = new PidSet(members)
    return await set.waitAll()
  } finally {
    set?.close()
    for (const member of members) member.close()
  }
}
