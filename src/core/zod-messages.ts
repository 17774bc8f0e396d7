/**
 * zod's English messages for `zod/mini`, which ships without any (every issue would read "Invalid input"). The
 * schemas that the sandbox process and its module workers load (the SDK protocol, the host and task wire, plain
 * errors) use zod/mini, tree-shakable, instead of classic zod: classic zod is ~730 KB of every sandbox bundle and
 * tens of ms of every worker's start. Each of those files imports this one, so a refusal reads as classic zod's.
 * Import it for its effect only: a namespace re-exported from here would defeat the tree-shaking.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
