/**
 * adblock: keeps the resolver's blocklist in line with this module's configuration and restarts the
 * service only when the list changed (idempotent: it runs on every cycle).
 */
import { config, fs, log, services } from 'updates-orchestrator/sdk';
import { renderBlocklist } from './blocklist.js';

export async function main(): Promise<{ success: boolean; changed: boolean; message: string }> {
  const path = String(config['blocklist_path']);
  const service = String(config['service_name']);
  const domains = Array.isArray(config['blocked_domains']) ? config['blocked_domains'].map(String) : [];
  if (domains.length === 0) return { success: false, changed: false, message: 'configuration.blocked_domains is empty' };

  await fs.mkdir('/etc/adblock');
  const changed = await fs.writeFile(path, renderBlocklist(domains));
  if (!changed) {
    await log.info(`blocklist already current (${domains.length} domains)`);
    return { success: true, changed: false, message: 'blocklist current' };
  }
  const status = await services.restart(service);
  await log.info(`blocklist updated (${domains.length} domains); ${service} restarted: ${status.state}`);
  return { success: status.active, changed: true, message: `blocklist updated, ${service} ${status.state}` };
}
