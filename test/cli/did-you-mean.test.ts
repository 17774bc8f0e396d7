// didYouMean: the closest name to a typo, or nothing when no candidate is close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { didYouMean } from '../../src/core/suggest.js';

const KEYS = ['repo_url', 'branch', 'pool_size', 'sandbox_user', 'sandbox_memory_mb', 'services'] as const;

test('a typo gets the closest candidate', () => {
  assert.equal(didYouMean('pool_sise', KEYS), 'pool_size');
  assert.equal(didYouMean('brnach', KEYS), 'branch');
  assert.equal(didYouMean('servics', KEYS), 'services');
});

test('kebab-case or another case finds the snake_case name', () => {
  assert.equal(didYouMean('repo-url', KEYS), 'repo_url');
  assert.equal(didYouMean('SANDBOX_USER', KEYS), 'sandbox_user');
});

test('nothing close: no suggestion', () => {
  assert.equal(didYouMean('colour', KEYS), undefined);
  assert.equal(didYouMean('x', KEYS), undefined);
  assert.equal(didYouMean('pool_size', []), undefined);
});
