// The audit line of a broker decision: what was asked (in the module's terms) and what was decided.
import type { Method, Params } from '../sdk/protocol.js';

/** Lists in audit lines are cut here: one line per decision, bounded. */
const MAX_LISTED = 20;

/** allowed: checked and done; denied: refused by policy or limits; failed: allowed but the action failed. */
export type Decision = 'allowed' | 'denied' | 'failed';

function cut<T>(list: readonly T[]): T[] {
  return list.slice(0, MAX_LISTED);
}

/** The fields naming what a request is about: path(s), argv, service, label or key. Never content. */
export function subjectOf(method: Method, params: Params<Method>): Record<string, unknown> {
  const p = params as Record<string, unknown>;
  switch (method) {
    case 'permissions.set':
      return { paths: cut((params as Params<'permissions.set'>).targets.map((t) => t.path)) };
    case 'state.backup':
      return { label: p['label'], paths: cut((params as Params<'state.backup'>).paths) };
    case 'state.restore':
      return { label: p['label'] };
    case 'exec':
      return { argv: cut((params as Params<'exec'>).argv) };
    case 'services.restart':
    case 'services.reload':
    case 'services.status':
      return { service: p['name'] };
    case 'store.get':
    case 'store.set':
    case 'store.delete':
      return { key: p['key'] };
    case 'log':
      return { level: p['level'] };
    case 'fs.readFile':
    case 'fs.writeFile':
    case 'fs.mkdir':
    case 'fs.remove':
    case 'fs.exists':
      return { path: p['path'] };
    case 'clock.sleep':
      return { ms: p['ms'] };
    case 'random.bytes':
      return { bytes: p['bytes'] };
    case 'state.list':
    case 'store.keys':
    case 'clock.now':
      return {};
  }
}
