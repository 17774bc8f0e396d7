/**
 * website: deploys the configured revision of the site's routing config. The change is wrapped in a state
 * backup: if the written config does not read back valid, the previous one is restored.
 */
import { clock, config, fs, log, state, store } from 'updates-orchestrator/sdk';

const SITE = String(config['site_dir']);
const CONFIG_FILE = `${SITE}/site.json`;

function render(): string {
  return `${JSON.stringify({ revision: config['revision'], routes: config['routes'] }, null, 2)}\n`;
}

function validates(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { revision?: unknown; routes?: unknown };
    return typeof parsed.revision === 'string' && parsed.routes !== null && typeof parsed.routes === 'object';
  } catch {
    return false;
  }
}

export async function main(): Promise<{ success: boolean; changed: boolean; message: string }> {
  const revision = String(config['revision']);
  if ((await store.get<string>('deployed_revision')) === revision && (await fs.exists(CONFIG_FILE))) {
    return { success: true, changed: false, message: `revision ${revision} already deployed` };
  }
  await fs.mkdir(SITE);
  if (!(await fs.exists(CONFIG_FILE))) await fs.writeFile(CONFIG_FILE, '{"revision":"none","routes":{}}\n');
  const backup = await state.backup('pre-deploy', [SITE]);
  await fs.writeFile(CONFIG_FILE, render());
  if (!validates(await fs.readFile(CONFIG_FILE))) {
    await state.restore('pre-deploy');
    await log.error(`revision ${revision} did not validate; restored backup ${backup.id}`);
    return { success: false, changed: false, message: `revision ${revision} rejected, previous config restored` };
  }
  await store.set('deployed_revision', revision);
  await store.set('deployed_at', (await clock.now()).iso);
  await log.info(`deployed revision ${revision} (backup ${backup.id} kept)`);
  return { success: true, changed: true, message: `deployed revision ${revision}` };
}
