// Symbol.dispose exists from Node 18.18 / 20.4; older runtimes get the
// registered symbol Node's own polyfill uses, so `using` still works there.
/** The `Symbol.dispose` of this runtime. */
export const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose)
