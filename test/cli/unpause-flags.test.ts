import test from 'ava';
import { InvalidArgumentError } from 'commander';
import { duration } from '../../src/cli/unpause-command.js';
import { buildProgram } from '../../src/cli/program.js';

test('--watch takes a Go duration as Cluster API writes them, or seconds', (t) => {
  t.is(duration('10m'), 600);
  t.is(duration('1h30m'), 5400);
  t.is(duration('90s'), 90);
  t.is(duration('45'), 45);
  for (const bad of ['', '0', '-5m', 'ten minutes', '10x']) t.throws(() => duration(bad), { instanceOf: InvalidArgumentError }, bad);
});

test('unpause is a command, and its apply-only options are described as such', (t) => {
  const unpause = buildProgram().commands.find((c) => c.name() === 'unpause')!;
  const help = unpause.helpInformation();
  for (const flag of [
    '--kubeconfig',
    '--cluster',
    '--format',
    '--apply',
    '--yes',
    '--accept',
    '--skip-remediation',
    '--watch',
    '--vsphere-thumbprint',
  ]) {
    t.true(help.includes(flag), flag);
  }
  t.regex(help, /--accept <digest> +with --apply/);
});
