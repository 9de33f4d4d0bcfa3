#!/usr/bin/env node
'use strict';
/**
 * From an operator's invite to the first valid verdict, timed: onboard (the key pair made
 * here), register a snarkjs verification key, submit a proof, verify the receipt offline.
 * Prints each step's wall time and the total.
 *
 *     node first_verdict.js --invite tfi1.12.0f3a... --connect appliance.example.com:4433 \
 *         --tenant pilot-initech --vkey verification_key.json --proof proof.json \
 *         --public public.json [--out DIR] [--purpose kyc] [--class P1]
 *
 * Exit 0 when the proof is valid and its receipt genuine, 1 otherwise (an error prints its
 * kind and what to do), 2 for a usage error. Run it where @trust-fabric/partner is installed.
 */

const started = performance.now(); // the clock starts before the SDK is loaded

const { parseArgs } = require('node:util');

const tf = require('@trust-fabric/partner');

async function firstVerdict(args) {
  const step = steps();
  step('loaded the SDK');
  const me = await tf.onboard({
    invite: args.invite, connect: args.connect, tenant: args.tenant, out: args.out,
  });
  step(`onboarded as ${me.tenant} (key pair made here, bundle revision ${me.revision})`);
  const partner = await tf.Partner.connect({ stateDir: me.dir });
  let verdict;
  try {
    step('connected with the new identity');
    const keyId = await partner.registerKey(args.vkey);
    step(`registered verifying key ${keyId.slice(0, 16)}...`);
    verdict = await partner.submitGroth16({
      keyId, proof: args.proof, public: args.public, purpose: args.purpose,
      datasetClass: args.class,
    });
    step(`verdict: ${verdict.verdict} (request ${verdict.requestId})`);
  } finally {
    await partner.close();
  }
  step('closed the connection');
  const facts = tf.verifyReceipt(verdict, me.receiptPublicKey);
  step(`receipt verified offline: ${facts.verdict}, ledger entry ${facts.ledgerSeq}`);
  return verdict.valid && facts.verdict === 'valid';
}

/** Prints each step with its own wall time and the time since the start. */
function steps() {
  let last = started;
  return (what) => {
    const now = performance.now();
    const seconds = (ms) => (ms / 1000).toFixed(3);
    console.log(`${seconds(now - last).padStart(8)} s  (at ${seconds(now - started).padStart(7)} s)  ${what}`);
    last = now;
  };
}

function parseArguments() {
  const text = { type: 'string' };
  try {
    const { values } = parseArgs({
      options: {
        invite: text, connect: text, tenant: text, out: text, vkey: text, proof: text,
        public: text, purpose: { type: 'string', default: 'kyc' },
        class: { type: 'string', default: 'P1' },
      },
    });
    for (const name of ['invite', 'connect', 'tenant', 'vkey', 'proof', 'public']) {
      if (values[name] === undefined) {
        throw new Error(`--${name} is required`);
      }
    }
    return values;
  } catch (error) {
    console.error(`first_verdict.js: ${error.message}`);
    process.exit(2);
  }
}

firstVerdict(parseArguments()).then((valid) => {
  console.log(`total: ${((performance.now() - started) / 1000).toFixed(3)} s from the invite to a verified receipt`);
  process.exitCode = valid ? 0 : 1;
}, (error) => {
  if (!(error instanceof tf.TrustFabricError)) {
    throw error;
  }
  console.error(`failed (${error.kind}): ${error.message}`);
  process.exitCode = 1;
});
