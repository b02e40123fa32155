import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../config/defaults.js';
import { durationText, readDuration } from '../config/values.js';
import { UsageError } from './errors.js';

/**
 * A time flag (`--timeout <duration>`), read as every duration of the product is: `30s`, `5m`,
 * `1h30m`; a bare number is refused with the unit it needs. The value is in ms; its default is
 * shown as a duration.
 */
export function durationOption(command: string, flags: string, description: string, defaultMs?: number): Option {
  const flag = flags.split(/[ ,]/)[0]!;
  const option = new Option(flags, description).argParser((value: string) => {
    const read = readDuration(value);
    if ('ms' in read && read.ms > 0) return read.ms;
    throw new UsageError(
      command,
      `${flag} ${'bare' in read ? read.problem : `${value}: expected a duration of more than zero, such as 30s, 10m or 1h`}`,
    );
  });
  return defaultMs === undefined ? option : option.default(defaultMs, durationText(defaultMs));
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
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
    .addOption(
      durationOption(command.name(), '--vsphere-timeout <duration>', 'timeout for each vCenter request', DEFAULTS.vsphere.requestTimeoutMs),
    );
}
