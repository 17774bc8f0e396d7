/**
 * `updates doctor [--json]`: checks that this machine can run updates unattended. One line per check (or one
 * JSON document `{ ok, checks: [{ name, ok, level, detail, fix }] }`); exit 1 when a check failed, 0 when
 * every check passed or only warned.
 */
import { readFileSync } from 'node:fs';
import { messageOf } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { packageRoot } from '../../core/package-root.js';
import type { Command } from '../command.js';
import { runChecks } from '../doctor-checks.js';
import type { Check, DoctorInput } from '../doctor-checks.js';
import { configFilesOf, readConfigFile, resolveSettings } from '../settings.js';

const LABEL = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export const command: Command = async ({ opts, installRoot }) => {
  const configFiles = opts.configFile !== undefined ? [opts.configFile] : configFilesOf(opts.root, installRoot);
  let settings: DoctorInput['settings'];
  try {
    settings = await resolveSettings(await readConfigFile(installRoot, opts.configFile, opts.root), opts.flags);
  } catch (err) {
    settings = { error: messageOf(err), files: configFiles };
  }
  const packageDir = packageRoot();
  const pkg = JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { engines?: { node?: string } };
  const checks = await runChecks({ root: opts.root, installRoot, settings, configFiles, nodeRange: pkg.engines?.node ?? '>=20.19', packageDir });
  const allOk = checks.every((c) => c.ok);
  process.stdout.write(opts.json ? `${JSON.stringify({ ok: allOk, checks }, null, 2)}\n` : format(checks));
  return allOk ? EXIT.OK : EXIT.FAILED;
};

function format(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${LABEL[c.level]}  ${c.name.padEnd(width)}  ${c.detail}${c.fix !== '' ? `\n      ${' '.repeat(width)}  fix: ${c.fix}` : ''}`);
  const failed = checks.filter((c) => c.level === 'fail').length;
  const warned = checks.filter((c) => c.level === 'warn').length;
  return `${lines.join('\n')}\n${failed === 0 ? 'ready' : `${failed} failed`}${warned > 0 ? `, ${warned} warning${warned > 1 ? 's' : ''}` : ''}\n`;
}
