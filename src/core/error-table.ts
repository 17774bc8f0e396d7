/**
 * The error-code table of docs/errors.md, generated from the catalogue (src/core/errors.ts), so the two cannot
 * drift: test/core/error-table.test.ts fails when the file is not what this prints. Regenerate it with
 * `npm run docs:errors`.
 */
import { CATALOGUE } from './errors.js';
import type { ErrorCode } from './errors.js';

/** The catalogue's sections, in its order: where each code comes from and who sees it. */
export const ERROR_SECTIONS: readonly { title: string; seenBy: string; codes: readonly ErrorCode[] }[] = [
  { title: 'Usage and configuration', seenBy: 'the CLI: one line on stderr, exit 2 (E_LOCKED: exit 75)', codes: ['E_USAGE', 'E_CONFIG', 'E_LOCKED'] },
  {
    title: 'Sync',
    seenBy: 'the run report\'s `errors` (exit 1); installed modules still run',
    codes: ['E_SYNC_UNREACHABLE', 'E_SYNC_NO_BRANCH', 'E_SYNC_REWRITTEN', 'E_UNSIGNED', 'E_SYNC_BAD_OBJECTS', 'E_FETCH_TOO_LARGE'],
  },
  {
    title: 'Repository content and installs',
    seenBy: 'the report\'s `updates` and `errors`, `updates validate`; the previous version stays live',
    codes: ['E_MANIFEST_INVALID', 'E_ROOT_INDEX_INVALID', 'E_MODULE_NAME', 'E_MODULE_CONTENT', 'E_BUILD', 'E_INSTALL', 'E_NOT_INSTALLED', 'E_NO_PREVIOUS', 'E_SELF_UPDATE'],
  },
  { title: 'Legacy manifest mode', seenBy: 'the report of `updates --legacy`', codes: ['E_LEGACY_MANIFEST', 'E_CHECKSUM', 'E_LEGACY_CHILD'] },
  {
    title: 'Module outcomes',
    seenBy: 'the report\'s `modules[].code`, `run-module`; a fresh update that fails this way is rolled back',
    codes: ['E_MODULE_FAILED', 'E_MODULE_TIMEOUT', 'E_MODULE_MEMORY', 'E_MODULE_EXITED', 'E_SANDBOX_MEMORY', 'E_SANDBOX_LOST', 'E_MODULE_RESULT'],
  },
  {
    title: 'Broker refusals (SDK calls)',
    seenBy: 'the module: the SDK call rejects with an `SdkError` of this `code`; the audit log has a line for each',
    codes: ['E_BAD_REQUEST', 'E_UNDECLARED_PATH', 'E_PATH_ESCAPE', 'E_UNDECLARED_OWNER', 'E_SPECIAL_BITS', 'E_UNDECLARED_COMMAND', 'E_UNDECLARED_SERVICE', 'E_LIMIT', 'E_RUN_ENDED', 'E_NOT_FOUND', 'E_BACKUP_NOT_FOUND', 'E_BACKUP_CORRUPT', 'E_IO'],
  },
  {
    title: 'Install root state',
    seenBy: 'the run report\'s `errors`, `updates doctor`',
    codes: ['E_STATE_OBSTACLE', 'E_JOURNAL_LOST', 'E_FS_READONLY', 'E_FS_FULL', 'E_FS_DENIED'],
  },
  { title: 'Internal', seenBy: 'anywhere: a bug of the orchestrator', codes: ['E_INTERNAL'] },
];

/** The SDK's own code, which the catalogue cannot hold (the SDK imports nothing of the orchestrator). */
const SDK_ONLY = { code: 'E_NO_SANDBOX', message: 'the SDK works only inside the orchestrator; run this module with "updates run-module <dir>"' };

/** A message template with its placeholders as `{name}`, escaped for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/** docs/errors.md, as Markdown. */
export function errorTable(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/core/errors.ts by `npm run docs:errors`; test/core/error-table.test.ts keeps it current. -->',
    '',
    'Every error the orchestrator, the broker or the SDK reports has a stable code (reports, metrics and scripts match',
    'on it) and a message that says what was wrong and how to fix it. `{name}` marks a detail filled in when the error',
    'happens: the module, the path, the method.',
    '',
  ];
  for (const s of ERROR_SECTIONS) {
    lines.push(`## ${s.title}`, '', `Seen by ${s.seenBy}.`, '', '| code | message |', '|---|---|');
    for (const code of s.codes) lines.push(`| \`${code}\` | ${cell(CATALOGUE[code]({}))} |`);
    if (s.title.startsWith('Broker')) lines.push(`| \`${SDK_ONLY.code}\` | ${cell(SDK_ONLY.message)} (the SDK itself, outside the sandbox) |`);
    lines.push('');
  }
  return lines.join('\n');
}
