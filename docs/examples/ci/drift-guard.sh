#!/usr/bin/env bash
# The drift guard as a CI job runs it: builds the pull request's bundle from its source
# folder, replays a signed decision sample under it and under the bundle in force when the
# sample was taken, and writes the report as a pull-request comment.
#
#   drift-guard.sh BUNDLE_SOURCE SAMPLE APPLIANCE_PUBLIC_KEY [OUT_MARKDOWN]
#
# BUNDLE_SOURCE  the folder with tenants.toml, budgets.toml, policies.cedar and keys/
# SAMPLE         a sample from `appliance decisions export --window 7d --out sample.tgz`
# APPLIANCE_PUBLIC_KEY  the appliance's receipt public key (`appliance keys show`)
# OUT_MARKDOWN   where the comment goes (default drift-report.md)
#
# $APPLIANCE names the appliance binary (default: appliance on $PATH); $DRIFT_TOLERANCE the
# tolerance in percent (default 0.5); $DRIFT_OVERRIDE_BY and $DRIFT_OVERRIDE_REASON, both set,
# let a blocked change pass with the approver's name and reason in the report (record them
# at promotion too: `appliance ctl promote --override-by NAME --reason TEXT`).
#
# Exit 0: the drift is within the tolerance (or overridden); 1: over it, the change must not
# merge as it is; 2: the job itself could not run (bad bundle, sample or key).
set -uo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
source_dir=$1
sample=$2
public_key=$3
out=${4:-drift-report.md}
appliance=${APPLIANCE:-appliance}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The guard does not check who signed the candidate, so a throwaway key signs it here; the
# appliance checks the real author's signature when the merged bundle is promoted.
"$appliance" bundle keygen --out "$work/ci-author.key" >/dev/null || exit 2
"$appliance" bundle build "$source_dir" --revision 1 --author "drift guard" \
  --note "pull request candidate" --key "$work/ci-author.key" --out "$work/candidate.tar.gz" \
  >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 2; }

approval=()
if [ -n "${DRIFT_OVERRIDE_BY:-}" ] && [ -n "${DRIFT_OVERRIDE_REASON:-}" ]; then
  approval=(--override-by "$DRIFT_OVERRIDE_BY" --reason "$DRIFT_OVERRIDE_REASON")
fi
"$appliance" bundle drift "$work/candidate.tar.gz" --sample "$sample" \
  --public-key "$public_key" --tolerance "${DRIFT_TOLERANCE:-0.5}" "${approval[@]}" \
  --format markdown >"$out"
status=$?
cat "$out"
exit "$status"
