// A user's TypeScript, type-checked against the installed declarations.
import { PidFd, PidSet, type ExitInfo, type WaitOptions } from 'pidset'

export async function firstExit(pids: number[], options: WaitOptions = { timeout: 1000 }): Promise<ExitInfo> {
  using set = new PidSet(pids)
  const info: ExitInfo = await set.waitAny(options)
  const code: number | null = info.exitCode
  const cpu: number | undefined = info.rusage?.userCPUTime
  void code
  void cpu
  return info
}

export function stop(pid: number): boolean {
  const pidfd: PidFd = PidFd.open(pid)
  try {
    return pidfd.kill('SIGTERM')
  } finally {
    pidfd.close()
  }
}
