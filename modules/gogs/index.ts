/**
 * gogs: makes sure its folders and config exist, then restores owners and modes from its configuration
 * (the seed's restore_service_permissions pattern, through the SDK instead of chown/chmod).
 */
import { config, fs, log, permissions } from 'updates-orchestrator/sdk';
import type { PermissionTarget } from 'updates-orchestrator/sdk';

interface DirConfig { path: string; owner?: string; mode: string }

function directories(): DirConfig[] {
  const dirs = config['directories'];
  if (dirs === null || typeof dirs !== 'object') return [];
  return Object.values(dirs as Record<string, DirConfig>);
}

export async function main(): Promise<{ success: boolean; changed: boolean; message: string }> {
  const defaults = (config['permissions'] ?? {}) as { owner?: string; group?: string };
  let created = 0;
  for (const dir of directories()) if (await fs.mkdir(dir.path)) created++;
  const iniChanged = await fs.writeFile('/etc/gogs/app.ini', typeof config['app_ini'] === 'string' ? config['app_ini'] : '');

  const targets: PermissionTarget[] = directories().map((d) => ({
    path: d.path,
    owner: d.owner ?? defaults.owner ?? 'root',
    group: defaults.group ?? 'root',
    mode: d.mode,
    recursive: true,
  }));
  try {
    const { changed } = await permissions.set(targets);
    await log.info(`permissions restored on ${targets.length} folders (${changed} changes)`);
    return { success: true, changed: created + changed > 0 || iniChanged, message: `${created} folders created, ${changed} permission changes` };
  } catch (err) {
    // The seed's behaviour: a failed permission restore is a warning, the service itself is still configured.
    await log.warn(`permission restoration failed: ${(err as Error).message}`);
    return { success: true, changed: created > 0 || iniChanged, message: 'configured; permissions not restored (see warning)' };
  }
}
