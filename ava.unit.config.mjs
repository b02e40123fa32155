// The fast lane (`npm run test:unit`): every test file except those that need a real peer built
// or started by `npm test`: the Go harness (vcsim, the go-plugin host, the govmomi reference), the
// single executable (dist/drift-detector) or s3rver. Its workers run with
// DRIFT_DETECTOR_TEST_LANE=unit, and those peers refuse to start there (test/helpers/lane.ts), so a
// new test file that needs one fails here until it is listed below.
import { readFileSync } from 'node:fs';

const { ava } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export const INTEGRATION_TESTS = [
  'test/storage/s3-source.test.ts', // s3rver
  'test/bench/bench.test.ts', // vcsim, govmomi reference
  'test/cli/detect.test.ts', // vcsim
  'test/cli/ignore-file.test.ts', // vcsim
  'test/cli/remediate.test.ts', // vcsim
  'test/cli/remediate-tampered.test.ts', // vcsim
  'test/cli/s3.test.ts', // s3rver, vcsim
  'test/cli/unpause.test.ts', // vcsim
  'test/cli/unpause-rules.test.ts', // vcsim
  'test/cli/unpause-tripwire.test.ts', // vcsim
  'test/cli/workload.test.ts', // vcsim
  'test/grpc/e2e.test.ts', // s3rver, vcsim
  'test/grpc/unpause.test.ts', // vcsim
  'test/webhook/e2e.test.ts', // s3rver, vcsim
  'test/webhook/schedule-bucket.test.ts', // s3rver
  'test/webhook/replicas.test.ts', // s3rver, vcsim
  'test/webhook/locations.test.ts', // s3rver
  'test/webhook/denial-causes.test.ts', // s3rver, vcsim
  'test/grpc/readiness.test.ts', // s3rver, vcsim
  'test/grpc/readiness-cluster.test.ts', // s3rver, vcsim
  'test/harness/vcsim.test.ts', // vcsim
  'test/plugin/protocol.test.ts', // single executable
  'test/report/html.test.ts', // chromium
  'test/plugin/velero-host.test.ts', // single executable, go-plugin host, s3rver, vcsim
  'test/plugin/velero-remote.test.ts', // go-plugin host, s3rver, vcsim
  'test/remediate/plan-sh-node.test.ts', // kubectl (Debian's kubernetes-client or the machine's own)
  'test/plugin/velero-restore.test.ts', // single executable, go-plugin host, s3rver, vcsim
  'test/vsphere/inventory.test.ts', // vcsim
];

export default {
  ...ava,
  files: [...ava.files, ...INTEGRATION_TESTS.map((file) => `!${file}`)],
  environmentVariables: { ...ava.environmentVariables, DRIFT_DETECTOR_TEST_LANE: 'unit' },
};
