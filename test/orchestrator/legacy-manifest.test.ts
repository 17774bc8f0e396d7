// Legacy mode's building blocks without the sandbox: the folder checksum (pinned against coreutils) and the manifest schema.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { folderChecksum, folderListing, moduleFolder } from '../../src/orchestrator/legacy/checksum.js';
import { parseLegacyManifest } from '../../src/orchestrator/legacy/manifest.js';
import { tempDir } from '../helpers/repo.js';

/** The checksum as an independent shell pipeline computes it: find + LC_ALL=C sort + sha256sum. */
function shellChecksum(dir: string): string {
  const script = [
    'cd "$1"',
    "find . -type f -printf '%P\\n' | LC_ALL=C sort | while IFS= read -r f; do",
    "  printf '%s\\t%s\\n' \"$f\" \"$(sha256sum < \"$f\" | cut -d' ' -f1)\"",
    "done | sha256sum | cut -d' ' -f1",
  ].join('\n');
  return `sha256:${execFileSync('bash', ['-c', script, 'checksum', dir], { encoding: 'utf8' }).trim()}`;
}

function sampleFolder(): string {
  const dir = path.join(tempDir('uo-legacy-sum'), 'mod');
  const files: Record<string, string | Buffer> = {
    'index.ts': 'export async function main() { return { success: true }; }\n',
    '.hidden': 'secret-ish\n',
    'a.txt': 'a',
    'B.txt': 'B',
    'é-accent.txt': 'unicode name\n',
    'sub/x.txt': 'x',
    'sub-y.txt': 'y',
    'deep/er/.dot/f': '',
    'bin.dat': Buffer.from([0, 255, 1, 254, 10, 13]),
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  symlinkSync('a.txt', path.join(dir, 'link-to-a'));
  symlinkSync('sub', path.join(dir, 'link-to-sub'));
  symlinkSync('/etc/passwd', path.join(dir, 'link-outside'));
  return dir;
}

test('the folder checksum equals an independent find | sort | sha256sum computation', async () => {
  const dir = sampleFolder();
  assert.equal(await folderChecksum(dir), shellChecksum(dir));
});

test('the listing is in byte order, hidden files included, symlinks left out', async () => {
  const listing = await folderListing(sampleFolder());
  const paths = listing.trimEnd().split('\n').map((l) => l.split('\t')[0]);
  assert.deepEqual(paths, ['.hidden', 'B.txt', 'a.txt', 'bin.dat', 'deep/er/.dot/f', 'index.ts', 'sub-y.txt', 'sub/x.txt', 'é-accent.txt']);
  assert.match(listing, /^deep\/er\/\.dot\/f\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$/m);
});

test('any change to a file, a hidden one included, changes the checksum', async () => {
  const dir = sampleFolder();
  const before = await folderChecksum(dir);
  writeFileSync(path.join(dir, 'deep', 'er', '.dot', 'f'), ' ');
  assert.notEqual(await folderChecksum(dir), before);
  assert.equal(await folderChecksum(dir), shellChecksum(dir));
});

test('moduleFolder follows the one live link and refuses what is not a folder', async () => {
  const root = tempDir('uo-legacy-link');
  const dir = sampleFolder();
  mkdirSync(path.join(root, 'modules'));
  symlinkSync(dir, path.join(root, 'modules', 'mod'));
  symlinkSync(path.join(root, 'nowhere'), path.join(root, 'modules', 'gone'));
  writeFileSync(path.join(root, 'modules', 'file'), 'x');
  assert.deepEqual(await moduleFolder(path.join(root, 'modules'), 'mod'), { dir });
  assert.equal(await moduleFolder(path.join(root, 'modules'), 'absent'), undefined);
  assert.match(JSON.stringify(await moduleFolder(path.join(root, 'modules'), 'gone')), /dangling link/);
  assert.match(JSON.stringify(await moduleFolder(path.join(root, 'modules'), 'file')), /not a folder/);
});

const SUM = `sha256:${'ab'.repeat(32)}`;
const valid = () => ({
  updates: [
    { name: 'adblock', version: '1.0.0', lastSafeVersion: '1.0.0', checksum: SUM, lastApplied: '2024-06-10T15:23:00Z', enabled: true, description: 'Blocks ads.' },
    { name: 'all_services', checksum: null, lastApplied: null, lastSafeVersion: null, enabled: true, description: null, children: ['adblock'] },
  ],
  entrypoint: 'all_services',
});

/** The message of the error parseLegacyManifest throws for `value`. */
function problemOf(value: unknown): string {
  try {
    parseLegacyManifest(typeof value === 'string' ? value : JSON.stringify(value), '/x/manifest.json');
  } catch (err) {
    assert.ok(err instanceof UpdatesError);
    return err.message;
  }
  assert.fail('the manifest was accepted');
}

test('a seed-style manifest parses (nulls of the entrypoint entry included) and comes back frozen', () => {
  const m = parseLegacyManifest(JSON.stringify(valid()), '/x/manifest.json');
  assert.equal(m.entrypoint, 'all_services');
  assert.deepEqual(m.updates[1]?.children, ['adblock']);
  assert.ok(Object.isFrozen(m.updates[0]));
});

test('an invalid manifest names the file, the entry and the field', () => {
  const badSum = valid();
  (badSum.updates[0] as Record<string, unknown>)['checksum'] = 'md5:1234';
  assert.match(problemOf(badSum), /\/x\/manifest\.json is invalid: updates\[0\] \("adblock"\)\.checksum: must be "sha256:"/);
  const badVersion = valid();
  (badVersion.updates[0] as Record<string, unknown>)['version'] = 'one';
  assert.match(problemOf(badVersion), /updates\[0\] \("adblock"\)\.version: "one" is not a semantic version/);
  const noEnabled = valid();
  delete (noEnabled.updates[0] as Record<string, unknown>)['enabled'];
  assert.match(problemOf(noEnabled), /updates\[0\] \("adblock"\)\.enabled: must be true or false/);
  const badName = valid();
  (badName.updates[0] as Record<string, unknown>)['name'] = '../etc';
  assert.match(problemOf(badName), /updates\[0\] \("\.\.\/etc"\)\.name: must be lower-case/);
  assert.match(problemOf({ ...valid(), entrypoint: 'nope' }), /entrypoint: names "nope", which is not an entry of updates/);
  assert.match(problemOf({ entrypoint: 'x' }), /updates: must be a list/);
  assert.match(problemOf('{ "updates": '), /not valid JSON/);
  const twice = valid();
  twice.updates.push({ ...twice.updates[0]! });
  assert.match(problemOf(twice), /updates\[2\] \("adblock"\)\.name: "adblock" is listed twice/);
});
