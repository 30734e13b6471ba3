/**
 * Claim check: a payload too large for orchestration history lives in Blob storage, and history carries
 * this reference instead. Orchestrators pass references along and never read them (no I/O there);
 * activities store and load the bodies (src/activities/payloadStore.ts), checking size and SHA-256.
 */
import { z } from 'zod';
import { ArtifactName } from './artifactTypes.js';

/** Azure container names: 3-63 lower-case letters, digits and single hyphens, starting with a letter or digit. */
const ContainerName = z
  .string()
  .regex(/^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/, { error: 'must be an Azure container name' });

export const PayloadRef = z.strictObject({
  container: ContainerName,
  /** The blob's name in the container, e.g. `run-1/transcripts/research/12.json`. */
  path: ArtifactName,
  /** Bytes of the stored body (UTF-8 JSON). */
  size: z.int().nonnegative(),
  /** Lower-case hex SHA-256 of the stored body. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lower-case hex digits' }),
});
export type PayloadRef = z.infer<typeof PayloadRef>;

/**
 * The claim-check threshold: no history event of an agent loop carries this many bytes (its transcript
 * goes by reference well before, at `transcriptOffloadChars`, 8,192 by default). Not yet a setting, and
 * not yet applied to the other payloads (see README "Large payloads").
 */
export const DEFAULT_PAYLOAD_OFFLOAD_BYTES = 32 * 1024;
