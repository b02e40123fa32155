import { Command, InvalidArgumentError } from 'commander';
import { DEFAULTS, SECOND } from '../config/defaults.js';

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** A default of DEFAULTS in ms, as the number of seconds a `<seconds>` flag takes. */
export function inSeconds(ms: number): number {
  return ms / SECOND;
}

/** Appends each value of a repeatable flag. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** vCenter credential and timeout flags shared by `detect` and `inventory`. Passwords never go on the command line. */
export function credentialOptions(command: Command): Command {
  return command
    .option('--vsphere-username <user>', 'vCenter user for every vCenter (overrides the backup; env VSPHERE_USERNAME)')
    .option('--vsphere-password-file <file>', 'file holding the vCenter password (env VSPHERE_PASSWORD also works)')
    .option('--vsphere-credentials <file>', 'YAML map of vCenter server to {username, password}, for several vCenters')
    .option('--vsphere-ca-file <file>', 'PEM file of CAs that vCenter certificates may verify against, beside the system CAs')
    .option(
      '--vsphere-thumbprint <server=thumbprint>',
      "a vCenter's certificate thumbprint (SHA-1 or SHA-256); trusts it with the given credentials; repeat for several",
      collect,
      [],
    )
    .option(
      '--vsphere-trusted-host <server>',
      "trust this vCenter with the given credentials on the backup's pinned thumbprint; repeat for several",
      collect,
      [],
    )
    .option('--vsphere-timeout <seconds>', 'timeout for each vCenter request', seconds, inSeconds(DEFAULTS.vsphere.requestTimeoutMs));
}
