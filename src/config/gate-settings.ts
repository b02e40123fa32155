/** The restore gate's settings, as the service's YAML (`gate.mode`) and the plugin's ConfigMap (`mode`) give them. */
import type { GateConfig } from '../gate/decide.js';
import { DEFAULTS } from './defaults.js';
import type { ConfigReader } from './values.js';

export const GATE_MODES = ['block', 'annotate'] as const;
export const FAILURE_POLICIES = ['Fail', 'Ignore'] as const;

/** `prefix`: where the keys live, e.g. `gate.`; unset keys take DEFAULTS.gate. */
export function readGateConfig(r: ConfigReader, prefix = ''): GateConfig {
  return {
    mode: r.choice(`${prefix}mode`, GATE_MODES) ?? DEFAULTS.gate.mode,
    failurePolicy: r.choice(`${prefix}failurePolicy`, FAILURE_POLICIES) ?? DEFAULTS.gate.failurePolicy,
    pauseOnDrift: r.bool(`${prefix}pauseOnDrift`) ?? DEFAULTS.gate.pauseOnDrift,
  };
}
