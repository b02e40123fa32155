import type { DoorWords } from '../app/detect.js';

/** How the command line words what the detection cannot know: where overrides come from, what to give. */
export const CLI_WORDS: DoorWords = {
  overridesFrom: 'the command line or environment',
  credentialsHint: 'give --vsphere-username and VSPHERE_PASSWORD, or --vsphere-credentials',
  certificateHints: {
    untrusted:
      'to trust it, give its CA with --vsphere-ca-file (or NODE_EXTRA_CA_CERTS=ca.pem), or pin its thumbprint with ' +
      "--vsphere-thumbprint <vCenter>=<thumbprint> (or the backup's VSphereCluster spec.thumbprint); --insecure-skip-verify skips the check",
    'thumbprint-mismatch':
      "the backup's VSphereCluster spec.thumbprint pins the expected one; check the certificate, and if it was replaced on purpose " +
      'pin the new one with --vsphere-thumbprint <vCenter>=<thumbprint>',
  },
  trustHint: (vcenter) =>
    `to trust it, give --vsphere-thumbprint ${vcenter}=<its certificate's SHA-256 thumbprint>, ` +
    `--vsphere-trusted-host ${vcenter}, or its CA with --vsphere-ca-file`,
};
