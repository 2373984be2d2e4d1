// Model-based fuzzing of PidFd and PidSet together (see model.ts): seeded
// random sequences of operations on real processes, each result checked
// against the model. A failure prints the seed and the shortest failing
// sequence found; PIDSET_FUZZ_SEED=<seed> replays one seed.
import test from 'ava'
import { generate, run, shrink, ModelViolation } from './model'
import { TIME_SCALE } from './helpers'

const OPS_PER_RUN = 120
/** New runs stop being started after this long, here and in the slower kernel guests alike. */
const BUDGET_MS = 10_000
const MAX_RUNS = 300
const SETTLE_MS = 5_000 * TIME_SCALE

test('random sequences of PidFd and PidSet operations agree with the model', async (t) => {
  t.timeout(BUDGET_MS + 120_000 * TIME_SCALE)
  const fixed = process.env.PIDSET_FUZZ_SEED
  const first = fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 31)
  const ends = Date.now() + BUDGET_MS
  let runs = 0
  const total = { steps: 0, processes: 0, exits: 0, promises: 0 }
  for (let seed = first; runs < (fixed ? 1 : MAX_RUNS) && Date.now() < ends; seed++, runs++) {
    const ops = generate(seed, OPS_PER_RUN)
    try {
      const stats = await run(ops, SETTLE_MS)
      total.steps += ops.length
      total.processes += stats.processes
      total.exits += stats.exits
      total.promises += stats.promises
    } catch (err) {
      if (!(err instanceof ModelViolation)) throw err
      const shortest = await shrink(ops, SETTLE_MS, 60_000 * TIME_SCALE)
      t.log(`seed ${seed}: ${err.message}`)
      t.log(`shortest failing sequence (${shortest.ops.length} of ${ops.length} steps): ${shortest.error.message}`)
      t.log(shortest.ops.map((op, i) => `${i}: ${JSON.stringify(op)}`).join('\n'))
      t.fail(`the model disagrees at seed ${seed} (replay with PIDSET_FUZZ_SEED=${seed})`)
      return
    }
  }
  t.log(`${runs} runs from seed ${first}: ${total.steps} operations on ${total.processes} processes, ${total.exits} exits and ${total.promises} promises checked, all as the model says`)
  // A run that started nothing or saw no exit would prove nothing.
  t.true(total.processes > runs && total.exits > runs && total.promises > runs)
})
