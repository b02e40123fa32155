/** Reported in the JSON report and by `--version`. Kept in step with package.json by a test. */
export const DETECTOR_VERSION = '0.1.0';
