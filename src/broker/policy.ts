// The broker's policy: deny by default; allow only what the module's own capabilities declare.
import { UpdatesError } from '../core/errors.js';
import type { Access, Capabilities, PathGrant } from '../core/manifest.js';
import { isKernelPath } from '../core/protected-paths.js';
import { isInside, issue, normalizeView } from './paths.js';
import type { CheckedPath, OwnFiles } from './paths.js';
import { resolvePrincipal } from './principals.js';
import type { Principal, PrincipalTables } from './principals.js';

/** setuid, setgid and sticky. */
const SPECIAL_BITS = 0o7000;

/** A mode as the protocol carries it: a number or an octal string. */
export function parseMode(mode: number | string): number {
  return typeof mode === 'number' ? mode : Number.parseInt(mode, 8);
}

/** Formats a mode for messages and audits: "0755". */
export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** Checks requests against one module's declared capabilities. Stateless apart from cached id tables. */
export class Policy {
  private tables: PrincipalTables | undefined;

  /**
   * @param capabilities the module's parsed manifest capabilities
   * @param root the --root mapping ('/' for none)
   * @param loadTables reads the host's user and group tables (once, on first use)
   */
  constructor(
    private readonly capabilities: Capabilities,
    private readonly root: string,
    private readonly loadTables: () => PrincipalTables,
    /** What no grant reaches (the orchestrator's own files), on top of the kernel file systems. */
    private readonly own: OwnFiles = { paths: [], inodes: new Set() },
  ) {}

  /**
   * The grant covering `view` with `access`. When several do, the most specific (longest) one decides,
   * so its owner lists and special-bit flag are the ones that apply.
   */
  grantFor(method: string, view: string, access: Access): PathGrant {
    let best: PathGrant | undefined;
    for (const grant of this.capabilities.paths) {
      const root = normalizeView(method, grant.path);
      // "/" (however spelled) and kernel file systems are never granted, whatever a manifest says
      if (root === '/' || isKernelPath(root) || !grant.access.includes(access) || !isInside(view, root)) continue;
      if (best === undefined || root.length > normalizeView(method, best.path).length) best = grant;
    }
    if (best === undefined) throw new UpdatesError('E_UNDECLARED_PATH', { method, path: view, access });
    return { ...best, path: normalizeView(method, best.path) };
  }

  /**
   * Normalizes and finds the grant: the one way to get a CheckedPath. Where the path really leads is found by
   * the descriptor walk (FdWalk) when the broker acts.
   */
  checkPath(method: string, requested: string, access: Access): CheckedPath {
    const view = normalizeView(method, requested);
    return issue(view, this.grantFor(method, view, access), this.root, this.own);
  }

  /** Resolves a requested owner or group and checks it against the grant's list by numeric id. */
  checkPrincipal(method: string, checked: CheckedPath, requested: Principal, field: 'owners' | 'groups'): number {
    const tables = (this.tables ??= this.loadTables());
    const table = field === 'owners' ? tables.users : tables.groups;
    const declared = checked.grant[field];
    const id = resolvePrincipal(requested, table);
    if (id === undefined) {
      if (declared.includes(requested)) {
        const kind = field === 'owners' ? 'user' : 'group';
        throw new UpdatesError('E_NOT_FOUND', { method, path: checked.view, detail: `${kind} "${String(requested)}" does not exist on this host` });
      }
      throw this.undeclared(method, checked, requested, field);
    }
    const allowed = declared.some((d) => resolvePrincipal(d, table) === id);
    if (!allowed) throw this.undeclared(method, checked, requested, field);
    return id;
  }

  private undeclared(method: string, checked: CheckedPath, requested: Principal, field: string): UpdatesError {
    return new UpdatesError('E_UNDECLARED_OWNER', { method, path: checked.view, principal: String(requested), field });
  }

  /** Parses a mode and refuses setuid/setgid/sticky unless the grant allows special bits. */
  checkMode(method: string, checked: CheckedPath, requested: number | string): number {
    const mode = parseMode(requested);
    if ((mode & SPECIAL_BITS) !== 0 && !checked.grant.allow_special_bits) {
      throw new UpdatesError('E_SPECIAL_BITS', { method, path: checked.view, mode: formatMode(mode) });
    }
    return mode;
  }

  /** The argv must equal one declared command element by element: no extra, missing or changed argument. */
  checkCommand(argv: readonly string[]): void {
    const match = this.capabilities.commands.some((cmd) => cmd.length === argv.length && cmd.every((a, i) => a === argv[i]));
    if (!match) throw new UpdatesError('E_UNDECLARED_COMMAND', { argv: JSON.stringify(argv) });
  }

  /** The service name must be declared exactly. */
  checkService(method: string, name: string): void {
    if (!this.capabilities.services.includes(name)) throw new UpdatesError('E_UNDECLARED_SERVICE', { method, service: name });
  }
}
