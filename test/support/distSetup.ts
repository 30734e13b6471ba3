/**
 * Global setup of the `integration` project (vitest.config.mts): refuses to run the tests against a
 * `dist/` older than the sources, with a message naming the stale files and the command that fixes it.
 */
import path from 'node:path';
import { staleBuildMessage, staleBuildOutputs } from './distFreshness.js';

export default function setup(): void {
  const stale = staleBuildOutputs(path.resolve(__dirname, '../..'));
  if (stale.length > 0) throw new Error(staleBuildMessage(stale));
}
