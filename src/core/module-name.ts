/** Folder names a module may have: they become path components and log fields. */
export const MODULE_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
