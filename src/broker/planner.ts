// Check mode's record of one module's run: what each request would have changed, and the overlay that lets the
// module's later reads see its own planned writes (a write then a read of the same file reads the planned content).
import { createTwoFilesPatch } from 'diff';
import { UpdatesError } from '../core/errors.js';

/** One change a module would make, as the report lists it. */
export interface PlannedChange {
  /** The SDK method that asked for it. */
  method: string;
  /** The file, folder, command, service, backup label or store key it concerns. */
  target: string;
  /** What would happen, in words: "would create (0644, 3 lines)", "would restart". */
  summary: string;
  /** A unified diff, for file writes and removals when diffs were asked for. */
  diff?: string;
}

/** A file the module would have written (its content) or removed (null). */
type PlannedFile = { content: string; mode: number } | null;

/** A store value the module would have deleted. */
const DELETED: unique symbol = Symbol('deleted');

/** Most changes one run records; past it they are counted, not kept, so a loop of writes cannot grow the report without bound. */
export const MAX_PLANNED_CHANGES = 1000;
/** Longest diff kept for one change, characters; a longer one is cut with a note. */
export const MAX_DIFF_CHARS = 64 * 1024;
/** All diffs of one run together, characters; past it a change carries a note instead of its diff. */
export const MAX_DIFF_TOTAL_CHARS = 1024 * 1024;
/** Largest edit script a diff is computed for (jsdiff's maxEditLength): a bigger rewrite is summarized, not diffed. */
const MAX_EDIT_LENGTH = 20_000;
/** Planned file content one run may hold in the orchestrator's memory, bytes (a real run holds none). */
export const MAX_PLANNED_BYTES = 64 * 1024 * 1024;

/** The plan of one module's check run. Lives in the broker, never in the sandbox. */
export class Planner {
  private readonly list: PlannedChange[] = [];
  private dropped = 0;
  private readonly files = new Map<string, PlannedFile>();
  private readonly dirs = new Set<string>();
  private readonly storeValues = new Map<string, unknown>();
  private plannedBytes = 0;
  private storeBytes = 0;
  private readonly storeSizes = new Map<string, number>();
  private diffChars = 0;

  /** @param diffs whether file changes carry a unified diff (`--diff`) */
  constructor(readonly diffs: boolean) {}

  /** Every planned change so far, in the order the module asked, and how many were over the cap. */
  get changes(): { changes: readonly PlannedChange[]; dropped: number } {
    return { changes: this.list, dropped: this.dropped };
  }

  /** Records a change that touches no overlay (a command, a service, a backup, permissions). */
  note(method: string, target: string, summary: string): void {
    this.push({ method, target, summary });
  }

  /** The planned state of a file: its content and mode, null when removed, undefined when the plan has not touched it. */
  file(view: string): PlannedFile | undefined {
    for (const [p, f] of this.files) if (f === null && view.startsWith(`${p}/`)) return null; // under a removed tree
    return this.files.get(view);
  }

  /** Whether the plan created folder `view` (or one above the file `view`). */
  createdDir(view: string): boolean {
    return this.dirs.has(view);
  }

  /**
   * Records a write of `content` with `mode` over `old` (undefined when the file does not exist). Resolves to
   * whether it would change anything; an unchanged write is recorded too, so the report shows it was checked.
   */
  write(method: string, view: string, old: { content: string | undefined; mode: number } | undefined, content: string, mode: number): boolean {
    const changed = old === undefined || old.content !== content || old.mode !== mode;
    const prior = this.files.get(view);
    const bytes = this.plannedBytes - (prior ? prior.content.length : 0) + content.length;
    if (bytes > MAX_PLANNED_BYTES) {
      throw new UpdatesError('E_LIMIT', { method, detail: `check mode holds at most ${MAX_PLANNED_BYTES / 2 ** 20} MiB of planned file content in one run` });
    }
    this.plannedBytes = bytes;
    this.files.set(view, { content, mode });
    let summary: string;
    if (old === undefined) summary = `would create (${formatMode(mode)}, ${lineCount(content)})`;
    else if (old.content === undefined) summary = `would replace (${lineCount(content)}); the file has more than one name, so it was not read or diffed`;
    else if (!changed) summary = 'unchanged';
    else if (old.content === content) summary = `would change mode ${formatMode(old.mode)} → ${formatMode(mode)}`;
    else summary = `would change (${lineCount(content)}${old.mode !== mode ? `, mode ${formatMode(old.mode)} → ${formatMode(mode)}` : ''})`;
    const diff = changed && this.diffs && old?.content !== content && (old === undefined || old.content !== undefined) ? this.diff(view, old?.content, content) : undefined;
    this.push({ method, target: view, summary, ...(diff !== undefined ? { diff } : {}) });
    return changed;
  }

  /** Records the removal of `view`; `old` is its content when it is a readable file, for the diff. */
  remove(view: string, what: 'file' | 'folder' | 'symlink', old: string | undefined): void {
    this.forget(view);
    this.files.set(view, null);
    for (const p of [...this.files.keys()]) if (p.startsWith(`${view}/`)) this.forget(p);
    this.dirs.delete(view);
    const diff = this.diffs && old !== undefined ? this.diff(view, old, undefined) : undefined;
    this.push({ method: 'fs.remove', target: view, summary: `would remove ${what === 'folder' ? 'the folder and everything in it' : `the ${what}`}`, ...(diff !== undefined ? { diff } : {}) });
  }

  /** A planned mode change of a file the plan writes, so a later write or check sees it. */
  chmod(view: string, mode: number): void {
    const f = this.files.get(view);
    if (f !== undefined && f !== null) this.files.set(view, { ...f, mode });
  }

  /** Records a folder that would be created (mkdir -p); `mode` when one was asked for. */
  mkdir(view: string, mode: number | undefined): void {
    this.dirs.add(view);
    if (this.files.get(view) === null) this.files.delete(view);
    this.push({ method: 'fs.mkdir', target: view, summary: `would create the folder${mode !== undefined ? ` (${formatMode(mode)})` : ''}` });
  }

  /** The planned value of a store key: undefined when the plan has not touched it, `{ deleted: true }` when it deleted it. */
  storeValue(key: string): { value: unknown } | { deleted: true } | undefined {
    if (!this.storeValues.has(key)) return undefined;
    const v = this.storeValues.get(key);
    return v === DELETED ? { deleted: true } : { value: v };
  }

  /** The store's keys after the plan: `real` (the store's keys now) with the planned sets and deletes applied. */
  storeKeys(real: readonly string[]): string[] {
    const keys = new Set(real);
    for (const [k, v] of this.storeValues) {
      if (v === DELETED) keys.delete(k);
      else keys.add(k);
    }
    return [...keys].sort();
  }

  /** Records a store write (`{ value }`) or delete ('delete') of `key` whose current value is `old` (undefined: absent). */
  store(key: string, old: unknown, change: { value: unknown } | 'delete', maxBytes: number): void {
    const deleting = change === 'delete';
    const size = deleting ? 0 : JSON.stringify(change.value).length + key.length;
    const total = this.storeBytes - (this.storeSizes.get(key) ?? 0) + size;
    if (total > maxBytes) throw new UpdatesError('E_LIMIT', { method: 'store.set', detail: `the store would be over its limit of ${maxBytes} bytes` });
    this.storeBytes = total;
    this.storeSizes.set(key, size);
    this.storeValues.set(key, deleting ? DELETED : change.value);
    const same = !deleting && old !== undefined && JSON.stringify(old) === JSON.stringify(change.value);
    const summary = deleting ? 'would delete the key' : same ? 'unchanged' : old === undefined ? 'would add the key' : 'would change the value';
    this.push({ method: deleting ? 'store.delete' : 'store.set', target: key, summary });
  }

  /** Drops a planned file from the overlay, and its bytes from the budget. */
  private forget(view: string): void {
    const f = this.files.get(view);
    if (f) this.plannedBytes -= f.content.length;
    this.files.delete(view);
  }

  /** The diff of one change, within the run's budget of diff text. */
  private diff(view: string, before: string | undefined, after: string | undefined): string {
    if (this.diffChars >= MAX_DIFF_TOTAL_CHARS) return `(diff left out: this run's diffs are over ${MAX_DIFF_TOTAL_CHARS / 2 ** 20} MiB)\n`;
    const text = unified(view, before, after);
    this.diffChars += text.length;
    return text;
  }

  private push(change: PlannedChange): void {
    if (this.list.length >= MAX_PLANNED_CHANGES) this.dropped += 1;
    else this.list.push(change);
  }
}

function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function lineCount(text: string): string {
  const n = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return `${n} line${n === 1 ? '' : 's'}`;
}

/** A unified diff of one file, `a/` and `b/` prefixed as git shows them; /dev/null for a side that does not exist. */
function unified(view: string, before: string | undefined, after: string | undefined): string {
  const patch = createTwoFilesPatch(before === undefined ? '/dev/null' : `a${view}`, after === undefined ? '/dev/null' : `b${view}`, before ?? '', after ?? '', undefined, undefined, { context: 3, maxEditLength: MAX_EDIT_LENGTH });
  if (patch === undefined) return `(diff left out: more than ${MAX_EDIT_LENGTH} lines differ)\n`;
  // The first line is a separator of "=" that createTwoFilesPatch writes; git's format starts at "---".
  const text = patch.split('\n').filter((l, i) => !(i === 0 && l.startsWith('==='))).join('\n');
  return text.length > MAX_DIFF_CHARS ? `${text.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)\n` : text;
}
