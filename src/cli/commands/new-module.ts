/** `updates new-module NAME [--dir DIR]`: scaffolds modules/NAME in a module repository, and what the repository lacks. */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { orchestratorVersion } from '../../orchestrator/version.js';
import type { Command } from '../command.js';
import { ESLINT_CONFIG, GITIGNORE_LINES, TSCONFIG, entryFile, manifestFile, packageFile, rootIndexFile } from '../scaffold.js';

const exists = (p: string): Promise<boolean> => fsp.access(p).then(() => true, () => false);

/** Writes `file` only when it does not exist; returns whether it wrote it. */
async function writeIfMissing(file: string, text: string): Promise<boolean> {
  try {
    await fsp.writeFile(file, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Adds the lines .gitignore lacks (creating it); returns whether it changed. */
async function ensureGitignore(file: string): Promise<boolean> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  const have = new Set(text.split('\n').map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !have.has(l) && !have.has(l.replace(/\/$/, '')));
  if (missing.length === 0) return false;
  await fsp.writeFile(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
  return true;
}

export const command: Command = async ({ opts }) => {
  const name = opts.newModule ?? '';
  const repo = opts.dir ?? process.cwd();
  const moduleDir = path.join(repo, 'modules', name);
  if (await exists(moduleDir)) throw new UpdatesError('E_USAGE', { detail: `${moduleDir} already exists; nothing was written (pick another name, or remove the folder)` });
  await fsp.mkdir(moduleDir, { recursive: true });
  const written = [path.join('modules', name, 'index.json'), path.join('modules', name, 'index.ts')];
  await fsp.writeFile(path.join(moduleDir, 'index.json'), manifestFile(name), { flag: 'wx' });
  await fsp.writeFile(path.join(moduleDir, 'index.ts'), entryFile(name), { flag: 'wx' });
  const extras: Array<[string, () => Promise<boolean>]> = [
    ['tsconfig.json', () => writeIfMissing(path.join(repo, 'tsconfig.json'), TSCONFIG)],
    ['eslint.config.mjs', async () => !(await exists(path.join(repo, 'eslint.config.js'))) && writeIfMissing(path.join(repo, 'eslint.config.mjs'), ESLINT_CONFIG)],
    ['.gitignore', () => ensureGitignore(path.join(repo, '.gitignore'))],
    ['package.json', () => writeIfMissing(path.join(repo, 'package.json'), packageFile(path.basename(repo)))],
    ['index.json', () => writeIfMissing(path.join(repo, 'index.json'), rootIndexFile(orchestratorVersion()))],
  ];
  for (const [file, write] of extras) if (await write()) written.push(file);
  if (opts.json) process.stdout.write(`${JSON.stringify({ module: name, dir: moduleDir, written }, null, 2)}\n`);
  else {
    process.stdout.write(`${written.map((f) => `wrote ${f}`).join('\n')}\n\n`);
    process.stdout.write(`next: npm install   (the SDK's types, typescript, eslint)\n      updates validate modules/${name}\n      updates run-module modules/${name}\n      updates run-module modules/${name} --check --diff\n`);
  }
  return EXIT.OK;
};
