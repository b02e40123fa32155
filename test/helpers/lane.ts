/**
 * The two test lanes: `npm run test:integration` runs the files that need a peer; `npm run test:unit` (ava.unit.config.mjs)
 * leaves out the files listed there as needing a real peer, and marks its workers with
 * DRIFT_DETECTOR_TEST_LANE=unit. Every helper that starts a peer calls `requireIntegrationLane`, so
 * a test file that starts one without being listed fails in the unit lane and says what to do.
 */
export const TEST_LANE_VARIABLE = 'DRIFT_DETECTOR_TEST_LANE';

export function requireIntegrationLane(peer: string): void {
  if (process.env[TEST_LANE_VARIABLE] !== 'unit') return;
  throw new Error(
    `${peer} is a peer of the integration lane: add this test file to INTEGRATION_TESTS in ava.unit.config.mjs (npm run test:integration runs it)`,
  );
}
