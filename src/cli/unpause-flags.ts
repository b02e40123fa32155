/** The flags of `drift-detector unpause`, shared by the command's definition and its run. */
export interface UnpauseFlags {
  kubeconfig?: string;
  cluster: string[];
  format: 'console' | 'json' | 'html';
  output?: string;
  insecureSkipVerify?: boolean;
  skipAccessApiserver?: boolean;
  apiserverTimeout: number;
  apiserverConcurrency: number;
  timeout: number;
  apply?: boolean;
  yes?: boolean;
  accept?: string;
  skipRemediation?: boolean;
  /** Seconds. */
  watch?: number;
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
  vsphereCaFile?: string;
  vsphereThumbprint: string[];
  vsphereTrustedHost: string[];
  vsphereTimeout: number;
}
