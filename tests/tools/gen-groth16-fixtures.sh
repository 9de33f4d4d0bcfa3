#!/usr/bin/env bash
# Regenerates the Groth16 fixtures in tests/fixtures/groth16/{bn128,bls12381} with circom (wasm build)
# and snarkjs, exactly as a partner would produce them. The output is checked in; tests never run this.
# Usage: tests/tools/gen-groth16-fixtures.sh   (needs node and npm; installs the pinned tools first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures="$root/tests/fixtures/groth16"
circuit="$fixtures/circuit/statement.circom"
(cd "$here" && npm ci --no-audit --no-fund --silent)
bin="$here/node_modules/.bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Witness inputs (a, b, salt) for the valid proofs; each gives a different statement.
inputs=('{"a":"3","b":"11","salt":"5"}'
        '{"a":"7","b":"13","salt":"42"}'
        '{"a":"123456789","b":"987654321","salt":"1"}'
        '{"a":"2","b":"2","salt":"0"}')

for curve in bn128 bls12381; do
  out="$fixtures/$curve"
  mkdir -p "$out" "$work/$curve"
  cd "$work/$curve"
  "$bin/circom2" "$circuit" --r1cs --wasm --prime "$curve" -o . >/dev/null
  # A tiny trusted setup: fine for fixtures, deterministic entropy so reruns are reviewable.
  "$bin/snarkjs" powersoftau new "$curve" 4 pot0.ptau >/dev/null
  "$bin/snarkjs" powersoftau contribute pot0.ptau pot1.ptau -name=fixtures -e="trust fabric fixtures" >/dev/null
  "$bin/snarkjs" powersoftau prepare phase2 pot1.ptau pot.ptau >/dev/null
  "$bin/snarkjs" groth16 setup statement.r1cs pot.ptau key0.zkey >/dev/null
  "$bin/snarkjs" zkey contribute key0.zkey key.zkey -name=fixtures -e="trust fabric fixtures 2" >/dev/null
  "$bin/snarkjs" zkey export verificationkey key.zkey "$out/verification_key.json" >/dev/null
  for i in "${!inputs[@]}"; do
    echo "${inputs[$i]}" > "input_$i.json"
    node statement_js/generate_witness.js statement_js/statement.wasm "input_$i.json" "w_$i.wtns"
    "$bin/snarkjs" groth16 prove key.zkey "w_$i.wtns" "$out/proof_$i.json" "$out/public_$i.json"
    "$bin/snarkjs" groth16 verify "$out/verification_key.json" "$out/public_$i.json" "$out/proof_$i.json" | grep -q 'OK'
  done
  echo "$curve: $(ls "$out" | wc -l) files"
done
