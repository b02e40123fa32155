import test from 'ava';
import { buildProgram } from '../../src/cli/program.js';

test('--watch takes a duration as every duration flag does; a bare number or nonsense is refused', (t) => {
  const unpause = buildProgram().commands.find((c) => c.name() === 'unpause')!;
  const watch = unpause.options.find((o) => o.long === '--watch')!;
  const parse = (value: string): unknown => watch.parseArg!(value, undefined);
  t.is(parse('10m'), 600_000);
  t.is(parse('1h30m'), 5_400_000);
  t.is(parse('90s'), 90_000);
  for (const bad of ['45', '0s', 'ten minutes']) t.throws(() => parse(bad), { message: /--watch/ }, bad);
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
