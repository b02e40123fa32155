/**
 * The remediation plan as people read it (text), as programs drive it (JSON) and as a reviewed
 * script (sh). Every name is shell-quoted or made printable: it comes from a report.
 */
import { printable, shellQuote } from '../util/shell.js';
import { kubeconfigInBackup, type MachinePlan, type PlanStep, type RemediationPlan } from './plan.js';

export function renderPlanJson(plan: RemediationPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

const command = (argv: string[]) => argv.map(shellQuote).join(' ');

export function renderPlanText(plan: RemediationPlan): string {
  const out: string[] = [];
  const p = printable;
  out.push(
    `Remediation plan${plan.backup ? ` for backup ${p(plan.backup)}` : ''}${plan.reportGeneratedAt ? ` (report of ${p(plan.reportGeneratedAt)})` : ''}`,
  );
  const checks = plan.entries.filter((e) => e.action === 'check').length;
  const none = plan.entries.filter((e) => e.action === 'none').length;
  out.push(`${plan.ghosts} Ghost(s) to remediate, ${checks} machine(s) to check, ${none} needing no action.`);
  if (plan.entries.length === 0) out.push('Nothing to do: every machine is Healthy.');
  const kubeconfigs = new Map<string, [string, string]>();
  let group: string | undefined = '\0';
  for (const e of plan.entries) {
    const title = e.cluster ? `Cluster ${p(e.cluster)}` : 'Infrastructure machines (in no backed-up cluster)';
    if (title !== group) out.push('', title);
    group = title;
    out.push(
      `  ${p(e.machine)}: ${e.role} ${e.status}, ${e.action === 'remediate' ? 'remediate' : e.action === 'check' ? 'check' : 'no action'}`,
    );
    const where = identity(e);
    if (where) out.push(`    ${where}`);
    out.push(`    Why: ${p(e.why)}`);
    e.steps.forEach((s, i) => out.push(`    ${i + 1}. ${p(s.description)}:`, `         ${p(command(s.command))}`));
    for (const c of e.checks) out.push(`    Check: ${p(c)}`);
    if (e.kubeconfig && e.cluster) kubeconfigs.set(e.kubeconfig, e.cluster.split('/') as [string, string]);
  }
  if (kubeconfigs.size > 0) {
    out.push('', 'The kubectl steps use each workload cluster kubeconfig from the backup:');
    for (const [file, [ns, name]] of kubeconfigs) {
      out.push(`  ${p(kubeconfigCommand(plan.backup ? shellQuote(plan.backup) : '<backup.tar.gz>', ns, name, shellQuote(file)))}`);
    }
  }
  if (plan.ghosts > 0) out.push('', 'Then run detect again: it must report no Ghost before the restore.');
  return `${out.join('\n')}\n`;
}

function identity(e: MachinePlan): string {
  const parts = [
    e.vcenter && `vCenter ${e.vcenter}`,
    e.datacenter && `datacenter ${e.datacenter}`,
    e.biosUUID && `BIOS UUID ${e.biosUUID}`,
    e.instanceUUID && `instance UUID ${e.instanceUUID}`,
    e.nodeName && `Node ${e.nodeName}`,
  ].filter(Boolean);
  return printable(parts.join(', '));
}

function kubeconfigCommand(backup: string, namespace: string, cluster: string, file: string): string {
  return `tar -xzOf ${backup} ${shellQuote(kubeconfigInBackup(namespace, cluster))} | jq -r .data.value | base64 -d > ${file}`;
}

const SH_PRELUDE = `set -euo pipefail

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# kubeconfig_from_backup NAMESPACE CLUSTER FILE: the workload cluster's kubeconfig Secret, from the Velero tarball.
kubeconfig_from_backup() {
  tar -xzOf "$BACKUP" "resources/secrets/namespaces/$1/$2-kubeconfig.json" | jq -r .data.value | base64 -d >"$workdir/$3"
}

# vm_guard DATACENTER BIOS_UUID INSTANCE_UUID: go on only when exactly one VM carries this BIOS UUID, with this instance UUID.
vm_guard() {
  local n
  n=$(govc find "$1" -type m -config.uuid "$2" | wc -l)
  [ "$n" -eq 1 ] || { echo "refusing: $n VMs carry BIOS UUID $2" >&2; return 1; }
  n=$(govc find "$1" -type m -config.uuid "$2" -config.instanceUuid "$3" | wc -l)
  [ "$n" -eq 1 ] || { echo "refusing: the VM with BIOS UUID $2 no longer has instance UUID $3 (re-created?)" >&2; return 1; }
}

# node_guard KUBECONFIG NODE BIOS_UUID ROLE: go on only when NODE is the one Node that carries this BIOS UUID
# (spec.providerID vsphere://UUID or status.nodeInfo.systemUUID, in any case), or when no Node carries it
# and none is named NODE; and a worker's Node carries no control-plane role label and runs no etcd Pod.
node_guard() {
  local rows found etcd
  rows=$(kubectl --kubeconfig "$1" --request-timeout=60s get nodes -o go-template="$node_rows") ||
    { echo "refusing: cannot list the Nodes to find the one with BIOS UUID $3" >&2; return 1; }
  found=$(UUID="$3" awk 'BEGIN { u = tolower(ENVIRON["UUID"]) } tolower($2) == "vsphere://" u || tolower($3) == u { print $1, $4 }' <<<"$rows")
  if [ "$(grep -c . <<<"$found")" -gt 1 ]; then
    echo "refusing: Nodes $(cut -d' ' -f1 <<<"$found" | paste -sd' ') all carry BIOS UUID $3" >&2
    return 1
  fi
  if [ -z "$found" ] && NAME="$2" awk '$1 == ENVIRON["NAME"] { named = 1 } END { exit !named }' <<<"$rows"; then
    printf 'refusing: the plan names Node %q, but no Node carries BIOS UUID %s\\n' "$2" "$3" >&2
    return 1
  fi
  if [ -n "$found" ] && [ "\${found%% *}" != "$2" ]; then
    printf 'refusing: the plan names Node %q, but Node %s carries BIOS UUID %s\\n' "$2" "\${found%% *}" "$3" >&2
    return 1
  fi
  if [ "$4" = worker ] && [ "\${found#* }" = control-plane ]; then
    echo "refusing: Node $2 (BIOS UUID $3) carries the control-plane role label: not a worker" >&2
    return 1
  fi
  if [ "$4" = worker ] && [ -n "$found" ]; then
    etcd=$(kubectl --kubeconfig "$1" --request-timeout=60s -n kube-system get pods -l component=etcd -o go-template='{{range .items}}{{.spec.nodeName}}{{"\\n"}}{{end}}') ||
      { echo "refusing: cannot tell whether an etcd Pod runs on Node $2 (BIOS UUID $3)" >&2; return 1; }
    if grep -qxF -- "$2" <<<"$etcd"; then
      echo "refusing: an etcd Pod runs on Node $2 (BIOS UUID $3): not a worker" >&2
      return 1
    fi
  fi
}
# One row per Node: name, providerID, systemUUID, and control-plane or worker by its role labels.
node_rows='{{range .items}}{{.metadata.name}} {{or .spec.providerID "-"}} {{or .status.nodeInfo.systemUUID "-"}} {{$role := "worker"}}{{range $k, $v := .metadata.labels}}{{if or (eq $k "node-role.kubernetes.io/control-plane") (eq $k "node-role.kubernetes.io/master")}}{{$role = "control-plane"}}{{end}}{{end}}{{$role}}{{"\\n"}}{{end}}'
`;

/** A script to review and run: every VM is addressed by BIOS UUID and checked against its instance UUID first. */
export function renderPlanSh(plan: RemediationPlan): string {
  const out: string[] = ['#!/usr/bin/env bash'];
  out.push(`# Remediation plan${plan.backup ? ` for backup ${printable(plan.backup)}` : ''}, generated by drift-detector remediate.`);
  out.push('# Review it first. Needs govc (GOVC_USERNAME and GOVC_PASSWORD in the environment), kubectl, tar, jq, base64.');
  out.push(SH_PRELUDE);
  out.push(`BACKUP=\${BACKUP:-${shellQuote(plan.backup ?? 'backup.tar.gz')}}`);
  const extracted = new Set<string>();
  for (const e of plan.entries) {
    out.push('', `# ${printable(`${e.cluster ?? 'infrastructure'} ${e.machine}: ${e.role} ${e.status}`)}`);
    if (e.action !== 'remediate') {
      out.push(`# no command: ${printable(e.why)}`);
      for (const c of e.checks) out.push(`#   check: ${printable(c)}`);
      continue;
    }
    out.push(...ghostScript(e, extracted));
  }
  return `${out.join('\n')}\n`;
}

function ghostScript(e: MachinePlan, extracted: Set<string>): string[] {
  const out: string[] = [];
  for (const c of e.checks) out.push(`# check first: ${printable(c)}`);
  if (e.checks.length > 0) out.push(`echo ${shellQuote(`skipped ${e.machine}: see the checks in this script`)} >&2`);
  if (e.checks.length > 0) return out;
  const kube = e.kubeconfig!;
  if (!extracted.has(kube)) {
    const [ns, name] = e.cluster!.split('/') as [string, string];
    out.push(`kubeconfig_from_backup ${shellQuote(ns)} ${shellQuote(name)} ${shellQuote(kube)}`);
    extracted.add(kube);
  }
  const arg = (a: string) => (a === kube ? `"$workdir"/${shellQuote(kube)}` : a === '<member-id>' ? '"$member_id"' : shellQuote(a));
  const line = (s: PlanStep) => s.command.map(arg).join(' ');
  out.push(`export GOVC_URL=${shellQuote(e.vcenter!)}`);
  out.push(`vm_guard ${shellQuote(e.datacenter ?? '/')} ${shellQuote(e.biosUUID!)} ${shellQuote(e.instanceUUID!)}`);
  const node = e.nodeName ?? e.machine;
  // The Node comes from the live cluster, by the VM's BIOS UUID: a report's name alone never picks what to drain.
  out.push(`node_guard ${arg(kube)} ${shellQuote(node)} ${shellQuote(e.biosUUID!)} ${e.role === 'control-plane' ? 'control-plane' : 'worker'}`);
  for (const s of e.steps) {
    out.push(`# ${printable(s.description)}`);
    if (s.kind === 'etcd-member-list') {
      out.push(`member_id=$(${line(s)} | NAME=${shellQuote(node)} awk -F', ' '$3 == ENVIRON["NAME"] { print $1 }')`);
    } else if (s.kind === 'etcd-member-remove') {
      out.push(`if [ -n "$member_id" ]; then ${line(s)}; else echo ${shellQuote(`no etcd member named ${node}: already removed`)} >&2; fi`);
    } else if (s.kind === 'node-drain') {
      const get = ['kubectl', '--kubeconfig', kube, 'get', 'node', node, '-o', 'name'].map(arg).join(' ');
      out.push(`if ${get} >/dev/null 2>&1; then ${line(s)}; fi`);
    } else {
      out.push(line(s));
    }
  }
  return out;
}
