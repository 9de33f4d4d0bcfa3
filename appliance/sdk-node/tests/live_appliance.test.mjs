// The Node SDK against a live appliance that tests/sdk_node.rs starts, with the package
// appliance/sdk-node/build-package packed installed from its tarball: onboard with an invite, register a
// snarkjs key, submit valid and invalid proofs from files, from parsed objects and as
// snarkjs's fullProve answer, a BLS signature, verify the receipts offline, the wizard's
// steps (sandbox, terms, checklist, the evidence preview), and the typed errors a partner acts
// on.
//
// The Rust test passes, in the environment: TF_SDK_INVITE (an invite for `pilot-*`: purpose
// kyc, class P1, a P1 cap of 100000 a day), TF_SDK_CONNECT (`localhost:PORT`), TF_SDK_SCRATCH
// (a folder to write into) and TF_SDK_FIXTURES (tests/fixtures/groth16/bn128). Run it with
// `cargo test -p appliance --test sdk_node`.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import * as tf from '@trust-fabric/partner';

const TENANT = 'pilot-node';

// One of the Ethereum BLS test vectors (verify_valid_case_195246ee3bd3b6ec): a genuine
// single signature.
const BLS = {
  publicKey: '0xb53d21a4cfd562c469cc81514d4ce5a6b577d8403d32a394dc265dd190b47fa9f829fdd7963afdf972e5e77854051f6f',
  message: '0xabababababababababababababababababababababababababababababababab',
  signature: '0xae82747ddeefe4fd64cf9cedb9b04ae3e8a43420cd255e3c7cd06a8d88b7c7f8638543719981c5d16fa3527c468c25f0026704a6951bde891360c7e8d12ddee0559004ccdbe6046b55bae1b257ee97f7cdb955773d7cf29adf3ccbb9975e4eb9',
};

function environment(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests with `
      + '`cargo test -p appliance --test sdk_node`, which starts the appliance');
  }
  return value;
}

const live = {
  invite: environment('TF_SDK_INVITE'),
  connect: environment('TF_SDK_CONNECT'),
  scratch: environment('TF_SDK_SCRATCH'),
  fixtures: environment('TF_SDK_FIXTURES'),
  /** @type {tf.Onboarded} */
  me: undefined,
};

const fixture = (name) => path.join(live.fixtures, name);
const parsed = (name) => JSON.parse(fs.readFileSync(fixture(name), 'utf8'));

/** Runs `work` with a connection as the onboarded tenant, closed at the end. */
async function connected(work) {
  const partner = await tf.Partner.connect({ stateDir: live.me.dir });
  try {
    return await work(partner);
  } finally {
    await partner.close();
  }
}

/** Registers the fixtures' key and submits `proof` and `inputs`; resolves to the verdict. */
function submitted(proof, inputs) {
  return connected(async (partner) => {
    const keyId = await partner.registerKey(fixture('verification_key.json'));
    return partner.submitGroth16({ keyId, proof, public: inputs, purpose: 'kyc', datasetClass: 'P1' });
  });
}

describe('the Node SDK against a live appliance', () => {
  before(async () => {
    live.me = await tf.onboard({
      invite: live.invite, connect: live.connect, tenant: TENANT,
      out: path.join(live.scratch, TENANT),
    });
  });

  test('onboarding writes an identity that connects', async () => {
    const me = live.me;
    assert.ok(me instanceof tf.Onboarded);
    assert.equal(me.tenant, TENANT);
    assert.ok(me.revision >= 2, `revision ${me.revision}`);
    assert.equal(me.dir, path.join(live.scratch, TENANT));
    for (const file of [me.key, me.certificate, me.ca, me.config]) {
      assert.ok(fs.statSync(file).isFile(), file);
    }
    assert.equal(fs.statSync(me.key).mode & 0o077, 0, "the private key is its owner's alone");
    assert.match(me.receiptPublicKey, /^[0-9a-f]{64}$/);
    assert.ok(me.logKey, 'the appliance keeps a transparency log');
    assert.equal(await connected(async (partner) => partner.receiptPublicKey), me.receiptPublicKey);
  });

  test('a valid proof from files and from parsed objects is valid with a genuine receipt', async () => {
    const fromFiles = await submitted(fixture('proof_0.json'), fixture('public_0.json'));
    const fromObjects = await submitted(parsed('proof_0.json'), parsed('public_0.json'));
    const fromText = await submitted(
      fs.readFileSync(fixture('proof_0.json'), 'utf8'), fs.readFileSync(fixture('public_0.json')));
    for (const verdict of [fromFiles, fromObjects, fromText]) {
      assert.ok(verdict instanceof tf.Verdict);
      assert.equal(verdict.verdict, 'valid', verdict.reason);
      assert.equal(verdict.valid, true);
      assert.equal(verdict.reason, '');
      const facts = tf.verifyReceipt(verdict, live.me.receiptPublicKey);
      assert.ok(facts instanceof tf.ReceiptFacts);
      assert.deepEqual(
        [facts.tenant, facts.verdict, facts.purpose, facts.datasetClass, facts.kind],
        [TENANT, 'valid', 'kyc', 'P1', 'groth16-bn254']);
      assert.equal(facts.requestId, verdict.requestId);
      assert.equal(facts.statementDigest, verdict.statementDigest);
      assert.equal(facts.reason, null);
      assert.equal(typeof facts.ledgerSeq, 'number');
      assert.match(facts.decidedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    // The same statement, however it was given.
    assert.equal(fromFiles.statementDigest, fromObjects.statementDigest);
    assert.equal(fromFiles.statementDigest, fromText.statementDigest);
    // A receipt saved to a file, its envelope object or its text check the same.
    const saved = await fromFiles.saveReceipt(path.join(live.scratch, 'receipt.json'));
    const key = live.me.receiptPublicKey;
    assert.deepEqual(tf.verifyReceipt(saved, key), tf.verifyReceipt(fromFiles, key));
    assert.deepEqual(tf.verifyReceipt(fromFiles.receiptEnvelope(), Buffer.from(key, 'hex')),
      tf.verifyReceipt(fromFiles.receipt, key));
  });

  test("snarkjs's fullProve answer is submitted as it is", async () => {
    // What `snarkjs.groth16.fullProve` resolves to: { proof, publicSignals }.
    const fullProve = { proof: parsed('proof_1.json'), publicSignals: parsed('public_1.json') };
    const verdict = await connected(async (partner) => {
      const keyId = await partner.registerKey(parsed('verification_key.json'));
      return partner.submitGroth16({ keyId, ...fullProve, purpose: 'kyc', datasetClass: 'P1' });
    });
    assert.equal(verdict.verdict, 'valid', verdict.reason);
    assert.equal(tf.verifyReceipt(verdict, live.me.receiptPublicKey).verdict, 'valid');
  });

  test('an altered public input is an invalid verdict with a genuine receipt', async () => {
    const inputs = parsed('public_0.json');
    inputs[0] = String(BigInt(inputs[0]) + 1n);
    const verdict = await submitted(fs.readFileSync(fixture('proof_0.json'), 'utf8'),
      JSON.stringify(inputs));
    assert.equal(verdict.verdict, 'invalid');
    assert.equal(verdict.valid, false);
    assert.ok(verdict.reason, 'an invalid verdict says why');
    const facts = tf.verifyReceipt(verdict, live.me.receiptPublicKey);
    assert.deepEqual([facts.verdict, facts.tenant], ['invalid', TENANT]);
    assert.equal(facts.requestId, verdict.requestId);
  });

  test('a BLS signature is verified, and a changed message is invalid', async () => {
    const [genuine, changed] = await connected((partner) => Promise.all([
      partner.submitBls({ publicKeys: BLS.publicKey, messages: BLS.message,
        signature: Buffer.from(BLS.signature.slice(2), 'hex'), purpose: 'kyc', datasetClass: 'P1' }),
      partner.submitBls({ publicKeys: [BLS.publicKey], messages: ['0x' + 'cd'.repeat(32)],
        signature: BLS.signature, purpose: 'kyc', datasetClass: 'P1' }),
    ]));
    assert.equal(genuine.verdict, 'valid', genuine.reason);
    assert.equal(changed.verdict, 'invalid');
    const facts = tf.verifyReceipt(genuine, live.me.receiptPublicKey);
    assert.equal(facts.kind, 'bls-single');
  });

  test('a tampered receipt, or another key, is ReceiptInvalid', async () => {
    const verdict = await submitted(fixture('proof_0.json'), fixture('public_0.json'));
    const envelope = verdict.receiptEnvelope();
    const payload = Buffer.from(envelope.payload, 'base64').toString('utf8');
    assert.ok(payload.includes('"valid"'), payload);
    envelope.payload = Buffer.from(payload.replace('"valid"', '"invalid"')).toString('base64');
    const key = live.me.receiptPublicKey;
    assert.throws(() => tf.verifyReceipt(envelope, key), (error) => {
      assert.ok(error instanceof tf.ReceiptInvalid, String(error));
      assert.ok(error instanceof tf.TrustFabricError);
      assert.equal(error.kind, 'receipt-invalid');
      assert.equal(error.name, 'ReceiptInvalid');
      return true;
    });
    assert.throws(() => tf.verifyReceipt(verdict, '00'.repeat(32)), tf.ReceiptInvalid);
    assert.throws(() => tf.verifyReceipt({ not: 'an envelope' }, key), tf.InvalidInput);
    assert.throws(() => tf.verifyReceipt(path.join(live.scratch, 'no-such-receipt.json'), key),
      tf.InvalidInput);
  });

  test('a used invite is refused with its reason and leaves nothing behind', async () => {
    const out = path.join(live.scratch, 'pilot-again');
    await assert.rejects(
      tf.onboard({ invite: live.invite, connect: live.connect, tenant: 'pilot-again', out,
        retries: 0 }),
      (error) => {
        assert.ok(error instanceof tf.OnboardingRefused, String(error));
        assert.equal(error.reason, 'used');
        assert.equal(error.kind, 'onboarding-refused');
        assert.equal(error.retryAfterMs, null);
        assert.match(error.message, /used/);
        return true;
      });
    assert.equal(fs.existsSync(out), false, 'the key made for it is removed');
  });

  test("budgets show the invite's cap", async () => {
    const budgets = await connected((partner) => partner.budgets());
    // The invite's cap, across every purpose (its terms may add others, per purpose).
    const caps = budgets.filter((b) => b.purpose === null && b.datasetClass === 'P1'
      && b.window === 'day');
    assert.equal(caps.length, 1, JSON.stringify(budgets));
    const [cap] = caps;
    assert.ok(cap instanceof tf.Budget);
    assert.equal(cap.tenant, TENANT);
    assert.equal(cap.limit, 100000);
    assert.ok(cap.remaining < cap.limit, 'the requests above were charged');
    assert.equal(cap.remaining + cap.used + cap.reserved, cap.limit);
    assert.equal(cap.granted, cap.limit, 'an appliance alone may spend all of the cap');
    assert.match(cap.resetsAt, /^\d{4}-\d\d-\d\dT00:00:00Z$/);
  });

  test('the wizard steps: sandbox, terms, evidence and a signed checklist', async () => {
    const evidence = path.join(live.scratch, 'evidence-preview');
    const refused = path.join(live.scratch, 'evidence-refused');
    const said = await connected(async (partner) => {
      const keyId = await partner.registerKey(fixture('verification_key.json'));
      const verdicts = [];
      for (const purpose of [tf.SANDBOX_PURPOSE, 'kyc']) {
        verdicts.push(await partner.submitGroth16({
          keyId, proof: fixture('proof_0.json'), public: fixture('public_0.json'),
          purpose, datasetClass: 'P1',
        }));
      }
      const [sandbox, first] = verdicts.map((v) => tf.verifyReceipt(v, live.me.receiptPublicKey));
      // Named by its verdict; the preview is checked against the appliance's key here.
      const preview = await partner.evidencePreview([verdicts[0]], { out: evidence });
      // Into a folder that is not empty: made, then refused here before writing.
      await assert.rejects(partner.evidencePreview(sandbox.ledgerSeq, { out: evidence }),
        tf.InvalidInput);
      // A real submission's receipt, by its ledgerSeq: the appliance refuses it.
      await assert.rejects(partner.evidencePreview([first.ledgerSeq], { out: refused }),
        (error) => {
          assert.ok(error instanceof tf.Denied, String(error));
          assert.equal(error.kind, 'denied');
          return true;
        });
      const within = await partner.requestTerms({
        ratePerSec: 50, burst: 50, maxRegisteredKeys: 8,
        caps: [{ datasetClass: 'P1', window: 'day', limit: 95000 }],
      });
      const above = await partner.requestTerms({ ratePerSec: 50, burst: 50, maxRegisteredKeys: 8 });
      const checklist = await partner.checklist({
        sandboxReceipt: sandbox.ledgerSeq, firstReceipt: first.ledgerSeq,
      });
      return { sandbox, preview, within, above, checklist };
    });
    assert.equal(said.sandbox.purpose, tf.SANDBOX_PURPOSE);
    // The evidence preview, as an auditor would get it. Its log proofs may lag the receipt by
    // a checkpoint interval, so `notYetLogged` is not asserted on.
    const { preview, sandbox } = said;
    assert.ok(preview instanceof tf.EvidenceSummary);
    assert.equal(preview.preview, true);
    assert.equal(preview.tenant, TENANT);
    assert.ok(preview.receipts.includes(sandbox.ledgerSeq), JSON.stringify(preview));
    assert.equal(preview.charged, sandbox.budgetCharged);
    const receiptFile = `receipts/${String(sandbox.ledgerSeq).padStart(12, '0')}.json`;
    for (const name of ['manifest.dsse.json', 'budgets.json', receiptFile]) {
      assert.ok(preview.files.includes(name), `${name} in ${preview.files}`);
      assert.ok(fs.statSync(path.join(evidence, name)).isFile(), name);
    }
    assert.equal(fs.existsSync(refused), false, 'nothing is written for a refused preview');
    const verified = tf.verifyEvidence(evidence, live.me.receiptPublicKey);
    assert.deepEqual(
      [verified.tenant, verified.receipts, verified.preview, verified.charged],
      [TENANT, preview.receipts, true, preview.charged]);
    assert.deepEqual([...verified.files].sort(), [...preview.files].sort());
    // Paid less than the receipts say: the manifest no longer vouches for the file.
    const budgets = path.join(evidence, 'budgets.json');
    const statements = JSON.parse(fs.readFileSync(budgets, 'utf8'));
    statements.lines[0].charged += 1;
    fs.writeFileSync(budgets, JSON.stringify(statements));
    assert.throws(() => tf.verifyEvidence(evidence, live.me.receiptPublicKey), (error) => {
      assert.ok(error instanceof tf.ReceiptInvalid, String(error));
      assert.match(error.message, /budgets\.json/);
      return true;
    });
    assert.throws(() => tf.verifyEvidence(path.join(live.scratch, 'no-such-folder'),
      live.me.receiptPublicKey), tf.InvalidInput);
    assert.equal(said.within.waiting, false, JSON.stringify(said.within));
    assert.ok(said.within.revision > 0);
    assert.equal(said.above.waiting, true, 'a cap left out waits for an operator');
    assert.match(said.above.detail, /left out/);
    assert.deepEqual(said.checklist.steps.map((s) => s.name),
      ['onboarded', 'keys', 'terms', 'sandbox', 'first-verdict']);
    assert.equal(said.checklist.complete, true, JSON.stringify(said.checklist.steps));
    const signed = tf.verifyChecklist(said.checklist.envelope, live.me.receiptPublicKey);
    assert.equal(signed.tenant, TENANT);
  });

  test('refusals are typed', async () => {
    await connected(async (partner) => {
      const proof = fixture('proof_0.json');
      const inputs = fixture('public_0.json');
      await assert.rejects(
        partner.submitGroth16({ keyId: 'ab'.repeat(32), proof, public: inputs, purpose: 'kyc',
          datasetClass: 'P1' }),
        (error) => error instanceof tf.UnknownKey && error.retryAfterMs === null);
      const keyId = await partner.registerKey(fs.readFileSync(fixture('verification_key.json')));
      // A purpose the invite's terms do not allow.
      await assert.rejects(partner.submitGroth16({ keyId, proof, public: inputs,
        purpose: 'marketing', datasetClass: 'P1' }), tf.Denied);
      // Refused here, before anything is sent.
      await assert.rejects(partner.submitGroth16({ keyId, proof: { pi_a: [] }, public: '[]',
        purpose: 'kyc', datasetClass: 'P1' }), tf.InvalidInput);
      await assert.rejects(partner.submitGroth16({ keyId, proof, public: inputs, purpose: 'kyc',
        datasetClass: 'P7' }), tf.InvalidInput);
      await assert.rejects(partner.submitBls({ publicKeys: new Uint8Array(47), messages: 'ab',
        signature: new Uint8Array(96), purpose: 'kyc', datasetClass: 'P1' }), tf.InvalidInput);
      await assert.rejects(partner.submitBls({ publicKeys: 'not hex', messages: 'ab',
        signature: BLS.signature, purpose: 'kyc', datasetClass: 'P1' }), tf.InvalidInput);
      await assert.rejects(partner.registerKey(path.join(live.scratch, 'no-such-key.json')),
        tf.InvalidInput);
      // Options missing or of the wrong type: a TypeError, before anything is sent.
      await assert.rejects(partner.submitGroth16({ keyId, proof, purpose: 'kyc',
        datasetClass: 'P1' }), TypeError);
      await assert.rejects(partner.submitGroth16({ keyId: 7, proof, public: inputs,
        purpose: 'kyc', datasetClass: 'P1' }), TypeError);
    });
    // A folder with no partner.toml: nothing to connect as, said before any connection.
    await assert.rejects(
      tf.Partner.connect({ stateDir: path.join(live.scratch, 'no-such-folder') }),
      tf.InvalidInput);
    // Requests after close are a lost connection.
    const partner = await tf.Partner.connect({ stateDir: live.me.dir });
    await partner.close();
    await assert.rejects(partner.budgets(), tf.ConnectionLost);
  });

  test('an over-budget error carries what ran out, typed', () => {
    const share = tf.fromKind('over-budget', 'share spent', null, 'fleet-share');
    assert.ok(share instanceof tf.OverBudget);
    assert.equal(share.reason, tf.OverBudgetReason.FLEET_SHARE);
    assert.equal(share.retryAfterMs, null);
    assert.equal(tf.fromKind('over-budget', 'cap spent', null, 'cap').reason,
      tf.OverBudgetReason.CAP);
    // Not said (or a name this version does not know): the cap's, which asks nothing of a retry.
    assert.equal(tf.fromKind('over-budget', 'spent').reason, tf.OverBudgetReason.CAP);
    assert.deepEqual(Object.values(tf.OverBudgetReason), ['cap', 'fleet-share']);
    assert.ok(Object.isFrozen(tf.OverBudgetReason));
  });

  test('requests on one connection run concurrently', async () => {
    const verdicts = await connected(async (partner) => {
      const keyId = await partner.registerKey(fixture('verification_key.json'));
      return Promise.all([0, 1, 2, 3].map((n) => partner.submitGroth16({
        keyId, proof: fixture(`proof_${n}.json`), public: fixture(`public_${n}.json`),
        purpose: 'kyc', datasetClass: 'P1',
      })));
    });
    assert.deepEqual(verdicts.map((v) => v.verdict), ['valid', 'valid', 'valid', 'valid']);
    assert.equal(new Set(verdicts.map((v) => v.requestId)).size, 4);
  });

  test('connectFiles connects with the PEM files onboarding wrote', async () => {
    const me = live.me;
    const partner = await tf.Partner.connectFiles({ address: live.connect, ca: me.ca,
      cert: me.certificate, key: me.key, retries: 1, timeoutMs: 10_000 });
    try {
      assert.equal(partner.receiptPublicKey, null, 'no partner.toml names the key');
      const budgets = await partner.budgets();
      assert.ok(budgets.some((b) => b.tenant === TENANT));
    } finally {
      await partner.close();
    }
  });
});
