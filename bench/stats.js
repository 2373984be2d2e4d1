'use strict'
// Small statistics and timing helpers shared by the benchmarks.

/** The q-quantile (0..1) of `values`, by nearest rank. */
function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** { n, p50, p99 } of a list of samples. */
function summary(values) {
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99) }
}

/** Monotonic time in microseconds, as a float. */
function nowUs() {
  return Number(process.hrtime.bigint()) / 1000
}

/** Resolves after `ms` milliseconds. */
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

module.exports = { quantile, summary, nowUs, delay }
