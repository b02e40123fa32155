/** The flags of `drift-detector unpause`, shared by the command's definition and its run. */
import type { CredentialSources } from '../config/vcenter-credentials.js';

export interface UnpauseFlags extends CredentialSources {
  kubeconfig?: string;
  cluster: string[];
  format: 'console' | 'json' | 'html';
  output?: string;
  insecureSkipVerify?: boolean;
  skipAccessApiserver?: boolean;
  /** In ms, as every duration flag. */
  apiserverTimeout: number;
  apiserverConcurrency: number;
  timeout: number;
  apply?: boolean;
  yes?: boolean;
  accept?: string;
  skipRemediation?: boolean;
  /** In ms. */
  watch?: number;
  vsphereTimeout: number;
}
