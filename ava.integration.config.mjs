// The integration lane (`npm run test:integration`): the test files that start a real peer (vcsim,
// the go-plugin host, the single executable, s3rver, chromium), listed in ava.unit.config.mjs.
// `npm test` runs the unit lane first, then this one, so every file runs exactly once.
import { readFileSync } from 'node:fs';
import { INTEGRATION_TESTS } from './ava.unit.config.mjs';

const { ava } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export default { ...ava, files: INTEGRATION_TESTS };
