// Loads a config for `pban replay`: filters are checked by compiling them, so a broken filter is
// reported with the config line that names it, and the compiled filters are handed on.
import type { PbanConfig } from '../config/index.js';
import type { CompiledFilter } from '../filters/index.js';

export interface FullConfig {
  readonly config: PbanConfig;
  /**
   * The filters compiled for the check, by spec, in the system time zone. Compiling costs
   * milliseconds per filter at every start: a caller that runs with that zone reuses them.
   */
  readonly systemZoneFilters: ReadonlyMap<string, CompiledFilter>;
}

export async function loadFullConfigWithFilters(file: string): Promise<FullConfig> {
  const [{ loadConfig }, { loadFilter }] = await Promise.all([import('../config/index.js'), import('../filters/index.js')]);
  const filters = new Map<string, CompiledFilter>();
  const config = loadConfig(file, {
    checkFilter(spec: string): string | undefined {
      try {
        if (!filters.has(spec)) filters.set(spec, loadFilter(spec));
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
  return { config, systemZoneFilters: filters };
}
