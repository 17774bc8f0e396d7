// What to use instead, for the errors a module meets when it reaches for what the sandbox does not have (runs in the worker).

interface Hint { pattern: RegExp; hint: string }

const HINTS: readonly Hint[] = [
  {
    pattern: /%SharedDate%/,
    hint: "the sandbox has no clock of its own (Date.now(), new Date() and Date() throw): use `await clock.now()` from 'updates-orchestrator/sdk', which gives { iso, epochMs }; new Date(epochMs) works",
  },
  {
    pattern: /\b(setTimeout|setInterval|setImmediate) is not (a function|defined)/,
    hint: "the sandbox has no timers: use `await clock.sleep(ms)` from 'updates-orchestrator/sdk' (at most 60 000 ms a call; loop for a longer wait or a poll)",
  },
  {
    pattern: /%SharedMath%\.random\(\)/,
    hint: "the sandbox has no Math.random(): use `await random.hex(bytes)` or `await random.uuid()` from 'updates-orchestrator/sdk' (keep a value that must stay the same with store.set)",
  },
  { pattern: /\bconsole is not defined/, hint: "the sandbox has no console: use `await log.info(...)` from 'updates-orchestrator/sdk'" },
  { pattern: /\b(process|require|Buffer) is not defined/, hint: "the sandbox has no Node globals: use the SDK (config for settings, main(args) for arguments, fs for files)" },
];

/** The hint for an error message, or undefined. */
export function hintFor(message: string): string | undefined {
  return HINTS.find((h) => h.pattern.test(message))?.hint;
}
