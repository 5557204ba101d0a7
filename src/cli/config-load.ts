// Loads a config for commands that need all of it (replay, start, check): filters are
// checked by compiling them, so a broken filter is reported with the config line that names it.
import type { PbanConfig } from '../config/index.js';

export async function loadFullConfig(file: string): Promise<PbanConfig> {
  const [{ loadConfig }, { loadFilter }] = await Promise.all([import('../config/index.js'), import('../filters/index.js')]);
  let timezone: string | undefined;
  return loadConfig(file, {
    checkFilter(spec: string): string | undefined {
      try {
        loadFilter(spec, { timezone });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  });
}
