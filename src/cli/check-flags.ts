/** The flags of `drift-detector check`, shared by the command's definition and its run. */
export interface CheckFlags {
  server: string;
  backupName?: string;
  storageLocation?: string;
  ca?: string;
  cert?: string;
  key?: string;
  tls?: boolean;
  tokenFile?: string;
  override?: string;
  overrideClusters?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  skipAccessApiserver?: boolean;
  refresh?: boolean;
  /** Follow the service's restore readiness (WatchReadiness) instead of checking one backup. */
  watch?: boolean;
  /** Ask for the unpause forecast of the service's management cluster (ForecastUnpause). */
  unpause?: boolean;
  /** With --unpause: `namespace/name` of the Clusters; all when empty. */
  cluster: string[];
  /** In ms. */
  timeout: number;
}
