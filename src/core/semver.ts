/**
 * The semver functions the orchestrator uses, each from its own module of the semver package: importing the
 * package whole also loads its ranges and classes, which every run would pay for at start-up without using.
 */
export { default as eq } from 'semver/functions/eq.js';
export { default as gt } from 'semver/functions/gt.js';
export { default as inc } from 'semver/functions/inc.js';
export { default as lt } from 'semver/functions/lt.js';
export { default as valid } from 'semver/functions/valid.js';
