// Work cut into steps: a generator that yields between slices of its work. The daemon runs it
// with a turn of the event loop between two slices, so its control socket answers while
// 100,000 bans load or are planned; tests, the CLI and a repair inside a command run it at once.

/** A piece of work that yields between slices and returns T. */
export type Steps<T> = Generator<void, T, undefined>;

/** Runs every step now. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs the steps, awaiting `pause` between two (it may throw to end the work there). */
export async function runStepsPaused<T>(steps: Steps<T>, pause: () => Promise<unknown>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await pause();
  }
}
