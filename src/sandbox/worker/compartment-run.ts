// Runs one module's bundle in a fresh SES Compartment whose only way out is the hardened SDK (runs in the worker).
import { SDK_SPECIFIER } from '../build/import-policy.js';
import { moduleFailure, normalizeResult, thrownFailure } from './module-result.js';
import type { WorkerReply } from '../wire/worker-reply.js';

/** The CommonJS wrapper's parameters; the bundle is the body of a function taking these. */
const WRAPPER_PARAMS = ['require', 'module', 'exports'] as const;

type ModuleFactory = (require: (specifier: string) => unknown, module: { exports: unknown }, exports: unknown) => void;

/**
 * A `require` that knows one specifier. The bundler already refused every other import; this is the run-time
 * guarantee for a computed `require(x)`.
 */
function makeRequire(sdk: object): (specifier: string) => unknown {
  return harden((specifier: string) => {
    if (specifier === SDK_SPECIFIER) return sdk;
    throw new Error(`require('${String(specifier)}') is not available in the sandbox; modules may import only '${SDK_SPECIFIER}'`);
  });
}

/**
 * Evaluates `code` in a new Compartment and calls its exported main(args).
 *
 * The Compartment gets no endowments at all: its globals are the frozen intrinsics SES gives every compartment
 * (no process, require, setTimeout, console, Date.now or Math.random). The SDK reaches the module only as the
 * return value of `require('updates-orchestrator/sdk')`. The bundle becomes the body of the compartment's own
 * `Function`, so it cannot close the wrapper early, and SES's source checks (no `import(`, no direct eval) apply.
 */
export async function runInCompartment(module: string, code: string, sdk: object, args: readonly string[]): Promise<WorkerReply> {
  const compartment = new Compartment({ __options__: true, name: `module:${module}` });
  const moduleObject: { exports: unknown } = { exports: {} };
  let main: unknown;
  try {
    const CompartmentFunction = compartment.globalThis.Function as FunctionConstructor;
    const factory = new CompartmentFunction(...WRAPPER_PARAMS, code) as ModuleFactory;
    factory(makeRequire(sdk), moduleObject, moduleObject.exports);
    main = (moduleObject.exports as { main?: unknown } | null | undefined)?.main;
  } catch (err) {
    return thrownFailure(module, err, code);
  }
  if (typeof main !== 'function') return moduleFailure(module, 'the module exports no main() function (export async function main() { ... })');
  let value: unknown;
  try {
    value = await (main as (args: readonly string[]) => unknown)(harden([...args]));
  } catch (err) {
    return thrownFailure(module, err, code);
  }
  try {
    return normalizeResult(module, value);
  } catch (err) {
    // normalizeResult guards each step; this is the last net for anything it did not foresee.
    return thrownFailure(module, err, code);
  }
}
