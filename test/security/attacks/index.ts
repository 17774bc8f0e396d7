// Every attack of the suite, in the order of ARCHITECTURE.md's list of categories.
import type { Attack } from '../attack.js';
import { BROKER_FS } from './broker-fs.js';
import { HOST_REACH } from './host-reach.js';
import { INSTALL_TREES } from './install-trees.js';
import { RESOURCES } from './resources.js';
import { SDK_ABUSE } from './sdk-abuse.js';

export const ATTACKS: readonly Attack[] = [...HOST_REACH, ...RESOURCES, ...SDK_ABUSE, ...INSTALL_TREES, ...BROKER_FS];
