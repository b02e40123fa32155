/**
 * The restore gate's verdict for one cluster (docs/restore-gate.md §2): BLOCK when the cluster
 * has Ghost machines; with failurePolicy Fail also when it needs further confirmation, because an
 * unconfirmed cluster may hide ghosts the detector could not see.
 */
import type { RollupStatus } from '../model/report.js';

export type Verdict = 'ALLOW' | 'BLOCK';

export type FailurePolicy = 'Fail' | 'Ignore';

export interface VerdictPolicy {
  failurePolicy: FailurePolicy;
}

export function verdictForStatus(status: RollupStatus, policy: VerdictPolicy): Verdict {
  if (status === 'ManualRemediationRequired') return 'BLOCK';
  if (status === 'NeedFurtherConfirmation' && policy.failurePolicy === 'Fail') return 'BLOCK';
  return 'ALLOW';
}
