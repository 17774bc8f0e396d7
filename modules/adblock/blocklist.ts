/** Renders the blocklist in the resolver's hosts format, sorted and de-duplicated so output is stable. */
export function renderBlocklist(domains: readonly string[]): string {
  const valid = [...new Set(domains.map((d) => d.trim().toLowerCase()))].filter((d) => /^[a-z0-9.-]+$/.test(d)).sort();
  return `# managed by updates-orchestrator (module adblock); local edits are overwritten\n${valid.map((d) => `0.0.0.0 ${d}`).join('\n')}\n`;
}
