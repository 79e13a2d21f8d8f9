/**
 * Waits until `check` answers true, checking after each turn of the event loop. It never waits
 * for time to pass on its own: it only lets I/O already under way finish.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what = 'the condition',
  limitMs = 5_000,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
