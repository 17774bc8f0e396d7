// Module manifests are strict (configuration excepted): an unknown key is refused with the key it was likely meant to be.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseModuleManifest } from '../../src/core/manifest.js';
import { PROJECT } from '../helpers/run.js';

const reason = (json: unknown): string => {
  const r = parseModuleManifest(JSON.stringify(json), 'm');
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? '' : r.reason;
};

test('unknown keys at every level are refused, with did-you-mean', () => {
  assert.match(reason({ metadata: { schema_version: '1.0.0', timeout: 30 } }), /^metadata: unknown key "timeout" \(did you mean "timeout_seconds"\?\)/);
  assert.match(reason({ metadata: { schema_version: '1.0.0' }, capabilites: {} }), /unknown key "capabilites" \(did you mean "capabilities"\?\)/);
  assert.match(reason({ metadata: { schema_version: '1.0.0' }, capabilities: { service: ['x'] } }), /^capabilities: unknown key "service" \(did you mean "services"\?\)/);
  assert.match(reason({ metadata: { schema_version: '1.0.0' }, capabilities: { paths: [{ path: '/etc/x', access: ['read'], owner: ['root'] }] } }), /^capabilities\.paths\.0: unknown key "owner" \(did you mean "owners"\?\)/);
  assert.match(reason({ metadata: { schema_version: '1.0.0', colour: 'red' } }), /unknown key "colour"; known keys: schema_version/);
});

test('configuration stays free-form, and capability rules refuse what cannot mean what was meant', () => {
  const ok = parseModuleManifest(JSON.stringify({ metadata: { schema_version: '1.0.0' }, configuration: { anything: { nested: [1] } } }), 'm');
  assert.equal(ok.ok, true);
  assert.match(reason({ metadata: { schema_version: '1.0.0' }, capabilities: { paths: [{ path: '/etc/a', access: ['read'], owners: ['root'] }] } }), /lists owners or groups but its access has no "chown"/);
  assert.match(reason({ metadata: { schema_version: '1.0.0' }, capabilities: { paths: [{ path: '/etc/a', access: ['read'] }, { path: '/etc//a', access: ['write'] }] } }), /\/etc\/a is already granted by capabilities\.paths\.0/);
});

test('the example modules pass the strict schema', () => {
  const dir = path.join(PROJECT, 'modules');
  for (const name of readdirSync(dir)) {
    const r = parseModuleManifest(readFileSync(path.join(dir, name, 'index.json'), 'utf8'), name);
    assert.equal(r.ok, true, `${name}: ${r.ok ? '' : r.reason}`);
  }
});
