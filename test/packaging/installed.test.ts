// The product as shipped: `npm pack` → `npm install -g --prefix <tmp>` → the installed `updates` answers --help,
// --version and doctor, and runs a full cycle as root from another folder; a module author's repository gets
// the SDK's types from the tarball alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';
import { installGlobally, npm, pack } from './pack.js';

interface Out { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[], cwd: string): Promise<Out> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 600_000, maxBuffer: 16 * 2 ** 20, env: { ...process.env, UPDATES_LOG_LEVEL: 'info' } }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

test('the tarball holds the built product and none of the development files', async () => {
  const { tarball } = await pack();
  const list = (await run('tar', ['-tzf', tarball], path.dirname(tarball))).stdout.split('\n').map((l) => l.replace(/^package\//, ''));
  for (const f of ['bin/updates.js', 'dist/bundle/main.cjs', 'dist/cli/main.js', 'dist/sdk/index.d.ts', 'systemd/updates-orchestrator.service', 'systemd/updates-orchestrator.timer', 'systemd/updates-orchestrator.sysusers.conf', 'examples/config.json', 'examples/updates-orchestrator.cron', 'README.md', 'CHANGELOG.md', 'SECURITY.md']) {
    assert.ok(list.includes(f), `the tarball has ${f}`);
  }
  assert.ok(list.some((f) => f.startsWith('dist/sandbox/supervisor/prebuilt/')), 'the prebuilt sandbox bundles are shipped');
  for (const prefix of ['src/', 'test/', '.ci/', 'scripts/', 'modules/', 'node_modules/']) assert.ok(!list.some((f) => f.startsWith(prefix)), `no ${prefix} in the tarball`);
});

test('npm pack builds dist/ itself (prepack) from sources that have none', async () => {
  const { builtIn } = await pack();
  assert.ok(existsSync(path.join(builtIn, 'dist', 'cli', 'main.js')), 'prepack ran the build');
});

test('a built checkout installed globally (npm install -g <folder>) gives a working updates', async () => {
  const prefix = tempDir('uo-prefix-link');
  await npm(['install', '-g', '--prefix', prefix, PROJECT], tempDir('uo-cwd'));
  const bin = path.join(prefix, 'bin', 'updates');
  const version = await run(bin, ['--version'], tempDir('uo-admin'));
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const usage = await run(bin, ['run', '--pool-size', '1000'], tempDir('uo-admin'));
  assert.equal(usage.code, 2, usage.stderr);
  assert.match(usage.stderr, /^updates: --pool-size: must be at most 64\. Run "updates --help" for usage\.\n$/);
});

test('installed globally without dev dependencies: --help, --version, doctor --json and a full run as root', async () => {
  const inst = await installGlobally();
  assert.ok(!existsSync(path.join(inst.packageDir, 'node_modules', 'tsx')), 'tsx is not installed');
  assert.ok(!existsSync(path.join(inst.packageDir, 'node_modules', 'typescript')), 'typescript is not installed');
  const elsewhere = tempDir('uo-admin');

  const help = await run(inst.bin, ['--help'], elsewhere);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: updates/);
  const version = await run(inst.bin, ['--version'], elsewhere);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `${inst.version}\n`);

  const root = tempDir('uo-server');
  const repo = makeRepo({
    ...rootIndex(inst.version),
    ...moduleFiles('web', { version: '1.0.0', body: `await log.info('web from the installed copy'); return { success: true, message: 'web ok' };` }),
  });
  mkdirSync(path.join(root, 'etc/updates-orchestrator'), { recursive: true });
  writeFileSync(path.join(root, 'etc/updates-orchestrator/config.json'), JSON.stringify({ repo_url: repo.url, services: 'record' }));

  const doctor = await run(inst.bin, ['doctor', '--json', '--root', root], elsewhere);
  assert.ok(doctor.code === 0 || doctor.code === 1, doctor.stderr);
  const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; level: string }[] }).checks;
  assert.equal(checks.find((c) => c.name === 'repository')?.level, 'ok', doctor.stdout);
  assert.equal(checks.find((c) => c.name === 'config')?.level, 'ok', doctor.stdout);

  const r = await run(inst.bin, ['run', '--root', root, '--json'], elsewhere);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { updates: { module: string; status: string }[]; modules: { module: string; status: string; message?: string }[] };
  assert.deepEqual(report.updates.map((u) => [u.module, u.status]), [['web', 'installed']]);
  assert.deepEqual(report.modules.map((m) => [m.module, m.status, m.message]), [['web', 'ok', 'web ok']]);
  assert.match(r.stderr, /web from the installed copy/);
  const status = await run(inst.bin, ['status', '--root', root], elsewhere);
  assert.match(status.stdout, /^web\s+1\.0\.0\s+-\s+enabled\s/m);
});

test('the installed updates runs from its CLI bundle: no file of dist/cli/, nor of the bundled packages, is loaded', async () => {
  const inst = await installGlobally();
  const hooks = tempDir('uo-load-log');
  const log = path.join(hooks, 'loaded.txt');
  writeFileSync(path.join(hooks, 'record.mjs'), `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`);
  writeFileSync(path.join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(hooks, 'record.mjs')).href)});\n`);
  // CommonJS, which the ES module hook above does not see, is recorded here: what is required, and what is
  // compiled by name (the launcher compiles the bundle itself, with its code cache: bin/code-cache.js).
  writeFileSync(path.join(hooks, 'record.cjs'), `const { appendFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const Module = require('node:module');
const vm = require('node:vm');
const record = (file) => appendFileSync(${JSON.stringify(log)}, pathToFileURL(file).href + '\\n');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  let file;
  try { file = Module._resolveFilename(request, parent, isMain); } catch { /* load() reports it */ }
  if (file !== undefined && file.startsWith('/')) record(file);
  return load.call(this, request, parent, isMain);
};
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    if (typeof options?.filename === 'string' && options.filename.startsWith('/')) record(options.filename);
  }
};
`);
  const pkg = pathToFileURL(realpathSync(inst.packageDir)).href;
  const root = tempDir('uo-server');
  for (const args of [['--version'], ['--help'], ['status', '--root', root]]) {
    writeFileSync(log, '');
    const r = await run(process.execPath, ['--import', path.join(hooks, 'register.mjs'), '--require', path.join(hooks, 'record.cjs'), inst.bin, ...args], tempDir('uo-admin'));
    assert.equal(r.code, 0, r.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith(pkg)).map((u) => u.slice(pkg.length + 1));
    assert.ok(loaded.includes('dist/bundle/main.cjs'), `${args.join(' ')}: ${loaded.join(' ')}`);
    const unbundled = loaded.filter((f) => f.startsWith('dist/cli/') || /^node_modules\/(zod|semver|simple-git|diff|pino)\//.test(f));
    assert.deepEqual(unbundled, [], `${args.join(' ')} loads only the bundle's files`);
  }
});

test('a module repository with only the tarball and TypeScript installed type-checks against the SDK', async () => {
  const { tarball } = await pack();
  const dir = tempDir('uo-author');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'my-modules', private: true, type: 'module' }));
  // TypeScript from this checkout (the version the project builds with), so the test needs no download of it.
  await npm(['install', '--ignore-scripts', '--save-dev', tarball, path.join(PROJECT, 'node_modules', 'typescript')], dir);
  assert.deepEqual(readdirSync(path.join(dir, 'node_modules', 'updates-orchestrator', 'dist', 'sdk')).filter((f) => f === 'index.d.ts'), ['index.d.ts']);
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [] }, include: ['modules'] }),
  );
  mkdirSync(path.join(dir, 'modules/site'), { recursive: true });
  writeFileSync(
    path.join(dir, 'modules/site/index.ts'),
    `import { fs, log, services, SdkError } from 'updates-orchestrator/sdk';
import type { ModuleResult, PermissionTarget } from 'updates-orchestrator/sdk';
const target: PermissionTarget = { path: '/srv/site', owner: 'www-data', mode: '755', recursive: true };
export async function main(): Promise<ModuleResult> {
  try {
    const changed = await fs.writeFile('/srv/site/index.html', '<h1>hi</h1>');
    if (changed) await services.reload('nginx');
    await log.info(target.path);
    return { success: true, changed };
  } catch (err) {
    return { success: false, message: err instanceof SdkError ? err.code : String(err) };
  }
}
`,
  );
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const good = await run(process.execPath, [tsc, '-p', '.'], dir);
  assert.equal(good.code, 0, good.stdout + good.stderr);

  writeFileSync(path.join(dir, 'modules/site/broken.ts'), `import { fs } from 'updates-orchestrator/sdk';\nexport const n: number = await fs.writeFile('/srv/x', 42);\n`);
  const bad = await run(process.execPath, [tsc, '-p', '.'], dir);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout, /broken\.ts\(2,\d+\): error TS2322/);
  assert.match(bad.stdout, /broken\.ts\(2,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
});
