/** Roll-up statuses, worst first (docs/drift-rules.md §5). */
export const ROLLUP_ORDER = [
  'ManualRemediationRequired',
  'NeedFurtherConfirmation',
  'NeedFurtherConfirmationInfraMachines',
  'ManualRemediationNotRequired',
  'Healthy',
] as const;

export type RollupStatus = (typeof ROLLUP_ORDER)[number];

export type MachineStatus = 'Healthy' | 'Stale' | 'Ghost' | 'Unknown';

/** The roll-up a single machine status contributes to its listing. */
export const MACHINE_ROLLUP: Record<MachineStatus, RollupStatus> = {
  Ghost: 'ManualRemediationRequired',
  Unknown: 'NeedFurtherConfirmation',
  Stale: 'ManualRemediationNotRequired',
  Healthy: 'Healthy',
};

/** The worse of roll-up statuses; Healthy for none. */
export function worst(statuses: Iterable<RollupStatus>): RollupStatus {
  let rank = ROLLUP_ORDER.length - 1;
  for (const s of statuses) rank = Math.min(rank, ROLLUP_ORDER.indexOf(s));
  return ROLLUP_ORDER[rank]!;
}

export interface MachineReport {
  /** The Machine's name; for a Ghost, its VM's name (its Node's when only the Node was seen). */
  name: string;
  status: MachineStatus;
  reason: string;
  /** Where the machine's evidence comes from: the backup, a VM, or only a workload Node. */
  source: 'backup' | 'vm' | 'node';
  vcenter?: string;
  datacenter?: string;
  vmName?: string;
  biosUUID?: string;
  instanceUUID?: string;
  powerState?: string;
  nodeName?: string;
  warnings?: string[];
}

export interface ListingReport {
  status: RollupStatus;
  machines: MachineReport[];
}

export interface ApiServerReport {
  /** False with --skip-access-apiserver, or when the API server could not be read. */
  reached: boolean;
  skipped?: boolean;
  nodes?: number;
  error?: string;
}

export interface ClusterReport {
  namespace: string;
  name: string;
  status: RollupStatus;
  controlPlane: ListingReport;
  workers: ListingReport;
  apiServer: ApiServerReport;
  /** The backed-up Cluster object's labels (absent when it has none): what a Restore's label selector sees. */
  labels?: Record<string, string>;
}

export interface InfraMachineReport {
  name: string;
  vcenter: string;
  biosUUID: string;
  reason: string;
  datacenter?: string;
  folder?: string;
  resourcePool?: string;
  powerState?: string;
}

export interface ReportError {
  /** `vcenter:<key>`, `cluster:<ns>/<name>`, `backup` or `workload:<ns>/<name>`. */
  scope: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface ReportSummary {
  status: RollupStatus;
  clusters: {
    total: number;
    Healthy: number;
    ManualRemediationNotRequired: number;
    ManualRemediationRequired: number;
    NeedFurtherConfirmation: number;
  };
  infraMachinesNeedFurtherConfirmation: number;
  /** Non-template VMs of the listed vCenters that belong to nothing in scope. */
  outOfScopeVMs: number;
  /** VMs an ignore file (`--ignore-file`) took out of scope; not counted in outOfScopeVMs. */
  ignoredVMs: number;
  hasErrors: boolean;
}

/** The report of docs/drift-rules.md §6. Field names are a contract: add, never rename. */
export interface DriftReport {
  summary: ReportSummary;
  clusters: ClusterReport[];
  infraMachines: InfraMachineReport[];
  errors: ReportError[];
  /** Added by the door that produced the report (not by the pure analysis). */
  metadata?: {
    backup: string;
    generatedAt: string;
    detectorVersion: string;
    apiServerAccess: boolean;
    vcenters: string[];
    /** The ignore file the detection applied (`--ignore-file`), when one was given. */
    ignoreFile?: string;
  };
}
