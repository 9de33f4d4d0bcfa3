// The built-in retry against a live appliance that tests/sdk_node.rs starts with the demo
// tenant admitted at 1 request a second (burst 1): a busy answer is thrown as Busy with the
// wait the appliance asked for when retries are off, and waited out (each retry after the
// wait asked) when they are on.
//
// The Rust test passes TF_SDK_STATE_DIR, the appliance's state directory, whose partner.toml
// names the demo tenant. Run it with `cargo test -p appliance --test sdk_node`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@trust-fabric/partner';

const stateDir = process.env.TF_SDK_STATE_DIR;

// One of the Ethereum BLS test vectors (verify_valid_case_195246ee3bd3b6ec), its message
// changed per request so no two are the same statement (a changed one is an invalid verdict,
// which is an answer all the same).
const PUBLIC_KEY = 'b53d21a4cfd562c469cc81514d4ce5a6b577d8403d32a394dc265dd190b47fa9f829fdd7963afdf972e5e77854051f6f';
const SIGNATURE = 'ae82747ddeefe4fd64cf9cedb9b04ae3e8a43420cd255e3c7cd06a8d88b7c7f8638543719981c5d16fa3527c468c25f0026704a6951bde891360c7e8d12ddee0559004ccdbe6046b55bae1b257ee97f7cdb955773d7cf29adf3ccbb9975e4eb9';

function submit(partner, n) {
  return partner.submitBls({ publicKeys: PUBLIC_KEY, messages: n.toString(16).padStart(64, '0'),
    signature: SIGNATURE, purpose: 'bench', datasetClass: 'P2' });
}

test('busy is thrown with its wait when retries are off, and waited out when on', async () => {
  assert.ok(stateDir, 'TF_SDK_STATE_DIR is set by `cargo test -p appliance --test sdk_node`');
  const impatient = await tf.Partner.connect({ stateDir, retries: 0 });
  let settled;
  try {
    settled = await Promise.allSettled([1, 2, 3, 4].map((n) => submit(impatient, n)));
  } finally {
    await impatient.close();
  }
  const refused = settled.filter((outcome) => outcome.status === 'rejected');
  assert.ok(refused.length >= 1, 'four at once overflow a bucket of one a second');
  for (const { reason } of refused) {
    assert.ok(reason instanceof tf.Busy, String(reason));
    assert.equal(reason.kind, 'busy');
    assert.ok(reason.retryAfterMs > 0, `asked to wait ${reason.retryAfterMs} ms`);
  }

  const patient = await tf.Partner.connect({ stateDir, retries: 8 });
  try {
    const verdicts = await Promise.all([5, 6, 7].map((n) => submit(patient, n)));
    assert.deepEqual(verdicts.map((v) => v.verdict), ['invalid', 'invalid', 'invalid']);
  } finally {
    await patient.close();
  }
});
