// Legacy mode's public surface, what the CLI calls: `updates --legacy` and `updates migrate-legacy`.
export { runLegacy } from './run.js';
export type { LegacyReport, LegacyRunOptions } from './run.js';
export { formatMigrateReport, indexJsonOf, migrateLegacy } from './migrate.js';
export type { MigrateEntry, MigrateOptions, MigrateReport, MigrateStatus } from './migrate.js';
export { folderChecksum, folderListing } from './checksum.js';
export { LEGACY_MANIFEST, parseLegacyManifest, readLegacyManifest } from './manifest.js';
export type { LegacyEntry, LegacyManifest } from './manifest.js';
