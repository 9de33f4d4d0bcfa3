// Checks verify.mjs: `node tests/tools/webhooks/verify_test.mjs` (from anywhere) exits 0 when
// every check passes, 1 otherwise. Dependency-free, like verify.mjs.
//
// - the Standard Webhooks `v1` known-answer vector (libraries' test_sign_function);
// - the `v1a` signature of the spec's example headers, from Svix's test key pair;
// - docs/webhooks.md's example message, made with Python's `cryptography` and identical to what
//   the appliance's own crates (tf-receipts, tf-webhooks) make for that receipt and those keys;
// - that the doc prints verify.mjs's verifier as it is, and the command's exit codes.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHmac, createPublicKey, verify as verifyEd25519 } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { verify } from "./verify.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const verifier = join(here, "verify.mjs");
const doc = readFileSync(join(here, "../../../docs/webhooks.md"), "utf8");

let passed = 0;
const failures = [];
function check(name, test) {
  try {
    test();
    passed += 1;
  } catch (error) {
    failures.push(`${name}: ${error.message}`);
  }
}

// The spec libraries' vector (python/tests/test_webhooks.py test_sign_function, and the same in
// the JavaScript library's tests).
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: "1614265330",
  body: Buffer.from('{"test": 2432232314}'),
  expected: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const specHeaders = (signature, extra = {}) => ({
  "webhook-id": SPEC.id,
  "webhook-timestamp": SPEC.timestamp,
  "webhook-signature": signature,
  ...extra,
});
const at = (nowS) => ({ secrets: [SPEC.secret], nowS });
const now = Number(SPEC.timestamp);

check("v1 vector: the HMAC over id.timestamp.body is the expected signature", () => {
  const key = Buffer.from(SPEC.secret.slice("whsec_".length), "base64");
  const content = Buffer.concat([Buffer.from(`${SPEC.id}.${SPEC.timestamp}.`), SPEC.body]);
  const mac = createHmac("sha256", key).update(content).digest("base64");
  assert.equal(`v1,${mac}`, SPEC.expected);
});
check("v1 vector verifies", () => {
  assert.deepEqual(verify(specHeaders(SPEC.expected), SPEC.body, at(now)), { ok: true, scheme: "v1" });
});
check("v1 vector verifies among unknown schemes and wrong signatures (the spec's multi-signature test)", () => {
  const noisy = [
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    SPEC.expected,
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
  ].join(" ");
  assert.equal(verify(specHeaders(noisy), SPEC.body, at(now)).ok, true);
  assert.equal(verify(specHeaders(`v1 v1,short ${SPEC.expected}`), SPEC.body, at(now)).ok, true);
});
check("v1 vector: header names in any case, the body as a Uint8Array, the secret unpadded", () => {
  const headers = { "Webhook-Id": SPEC.id, "WEBHOOK-TIMESTAMP": SPEC.timestamp, "webhook-Signature": SPEC.expected };
  assert.equal(verify(headers, new Uint8Array(SPEC.body), at(now)).ok, true);
  assert.equal(verify(new Headers(specHeaders(SPEC.expected)), SPEC.body, at(now)).ok, true);
  // A 32-byte secret's base64 ends in `=`, which is easily lost when it is copied by hand.
  const padded = Buffer.alloc(32, 5).toString("base64");
  const content = Buffer.concat([Buffer.from(`${SPEC.id}.${SPEC.timestamp}.`), SPEC.body]);
  const signature = "v1," + createHmac("sha256", Buffer.alloc(32, 5)).update(content).digest("base64");
  assert.ok(padded.endsWith("="));
  const unpadded = { secrets: ["whsec_" + padded.replace(/=+$/, "")], nowS: now };
  assert.equal(verify(specHeaders(signature), SPEC.body, unpadded).ok, true);
});
check("v1 vector: a changed body, id or timestamp does not verify", () => {
  const refused = { ok: false, reason: "no signature matches a trusted key" };
  assert.deepEqual(verify(specHeaders(SPEC.expected), Buffer.from('{"test": 2432232315}'), at(now)), refused);
  assert.deepEqual(verify(specHeaders(SPEC.expected, { "webhook-id": "msg_other" }), SPEC.body, at(now)), refused);
  assert.deepEqual(verify(specHeaders(SPEC.expected, { "webhook-timestamp": "1614265331" }), SPEC.body, at(now)), refused);
  // The spec library's "invalid signature" case: the last character changed.
  assert.deepEqual(verify(specHeaders("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), SPEC.body, at(now)), refused);
  const other = "whsec_" + Buffer.alloc(32, 9).toString("base64");
  assert.deepEqual(verify(specHeaders(SPEC.expected), SPEC.body, { secrets: [other], nowS: now }), refused);
});
check("v1 vector: the timestamp tolerance is 300 s either way, and checked first", () => {
  assert.equal(verify(specHeaders(SPEC.expected), SPEC.body, at(now + 300)).ok, true);
  assert.equal(verify(specHeaders(SPEC.expected), SPEC.body, at(now - 300)).ok, true);
  assert.match(verify(specHeaders(SPEC.expected), SPEC.body, at(now + 301)).reason, /301 s old/);
  assert.match(verify(specHeaders(SPEC.expected), SPEC.body, at(now - 301)).reason, /301 s in the future/);
  assert.equal(verify(specHeaders(SPEC.expected), SPEC.body, { ...at(now + 3600), toleranceS: 3600 }).ok, true);
  assert.match(verify(specHeaders(SPEC.expected), SPEC.body, at(now + 1e9)).reason, /old/);
});
check("malformed or missing headers are refused with the reason", () => {
  const reason = (headers) => verify(headers, SPEC.body, at(now)).reason;
  assert.match(reason({ "webhook-timestamp": SPEC.timestamp, "webhook-signature": SPEC.expected }), /missing `webhook-id`/);
  assert.match(reason(specHeaders(SPEC.expected, { "webhook-timestamp": "" })), /missing `webhook-timestamp`/);
  assert.match(reason(specHeaders("")), /missing `webhook-signature`/);
  assert.match(reason(specHeaders(SPEC.expected, { "webhook-id": "msg.1" })), /contains `.`/);
  for (const bad of ["hello", "-1", "1614265330.5", " 1614265330", "+1614265330", "123456789012345678901"]) {
    assert.match(reason(specHeaders(SPEC.expected, { "webhook-timestamp": bad })), /not integer unix seconds/, bad);
  }
  assert.match(reason(specHeaders("v1a,AAAA v2,AAAA")), /has no v1 signature/);
});
check("malformed keys throw: they are configuration errors, not refused messages", () => {
  const message = specHeaders(SPEC.expected);
  assert.throws(() => verify(message, SPEC.body, { secrets: ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], nowS: now }), TypeError);
  assert.throws(() => verify(message, SPEC.body, { secrets: ["whsec_" + Buffer.alloc(16).toString("base64")], nowS: now }), TypeError);
  assert.throws(() => verify(message, SPEC.body, { publicKeys: ["whpk_AAAA"], nowS: now }), TypeError);
  assert.throws(() => verify(message, SPEC.body, { nowS: now }), TypeError);
});

// The spec's example headers carry `v1a,hnO3…`: Svix's test key pair (seed || public key,
// svix-server worker.rs test_asymmetric_key_signing) signing the vector's message.
const SVIX_PAIR = Buffer.from(
  "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==",
  "base64",
);
const SVIX_WHPK = "whpk_" + SVIX_PAIR.subarray(32).toString("base64");
const SPEC_V1A = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";

check("v1a: the spec's example signature verifies under its key pair's public key", () => {
  const pub = { publicKeys: [SVIX_WHPK], nowS: now };
  assert.deepEqual(verify(specHeaders(SPEC_V1A), SPEC.body, pub), { ok: true, scheme: "v1a" });
  assert.deepEqual(verify(specHeaders(`${SPEC.expected} ${SPEC_V1A}`), SPEC.body, pub), { ok: true, scheme: "v1a" });
  assert.equal(verify(specHeaders(SPEC_V1A), Buffer.from("{}"), pub).ok, false);
  // The scheme tag counts: the same signature under another tag is not a v1a signature.
  assert.equal(verify(specHeaders(SPEC_V1A.replace("v1a,", "v2,")), SPEC.body, pub).ok, false);
  // Non-canonical base64 of the same bytes (no padding) is not how the appliance writes them.
  assert.equal(verify(specHeaders(SPEC_V1A.replace(/=+$/, "")), SPEC.body, pub).ok, false);
  // A v1 secret does not accept a v1a signature, and a v1a key not a v1 one.
  assert.match(verify(specHeaders(SPEC_V1A), SPEC.body, at(now)).reason, /has no v1 signature/);
  assert.match(verify(specHeaders(SPEC.expected), SPEC.body, pub).reason, /has no v1a signature/);
});

// docs/webhooks.md's example message.
function exampleFromDoc() {
  const section = doc.slice(doc.indexOf("### An example"), doc.indexOf("## Headers"));
  const http = section.match(/```http\n([\s\S]*?)\n```/)[1];
  const field = (name) => http.match(new RegExp(`^${name}: (.*)$`, "m"))[1];
  return {
    headers: {
      "webhook-id": field("webhook-id"),
      "webhook-timestamp": field("webhook-timestamp"),
      "webhook-signature": field("webhook-signature"),
    },
    contentLength: Number(field("Content-Length")),
    body: Buffer.from(section.match(/```text\n([\s\S]*?)\n```/)[1]),
    secret: section.match(/`(whsec_[A-Za-z0-9+/=]+)`/)[1],
    publicKey: section.match(/`(whpk_[A-Za-z0-9+/=]+)`/)[1],
    receiptKey: section.match(/receipt key is `([0-9a-f]{64})`/)[1],
  };
}

check("the doc's example verifies under its v1 secret and its v1a key, and not at another time", () => {
  const example = exampleFromDoc();
  const nowS = Number(example.headers["webhook-timestamp"]);
  assert.equal(example.body.length, example.contentLength);
  assert.equal(example.publicKey, SVIX_WHPK);
  assert.equal(example.secret, SPEC.secret);
  assert.deepEqual(verify(example.headers, example.body, { secrets: [example.secret], nowS }), { ok: true, scheme: "v1" });
  assert.deepEqual(verify(example.headers, example.body, { publicKeys: [example.publicKey], nowS }), { ok: true, scheme: "v1a" });
  assert.equal(verify(example.headers, example.body, { publicKeys: [example.publicKey], nowS: nowS + 301 }).ok, false);
});
check("the doc's example: a receipt.issued body whose receipts are signed DSSE envelopes", () => {
  const example = exampleFromDoc();
  const body = JSON.parse(example.body);
  assert.equal(body.type, "receipt.issued");
  const [first] = body.data.receipts;
  const [, endpoint, firstSeq, lastSeq] = example.headers["webhook-id"].match(/^msg_receipts_(\d+)_(\d+)_(\d+)$/);
  assert.equal(endpoint, "3");
  assert.equal(String(first.seq), firstSeq);
  assert.equal(String(body.data.receipts.at(-1).seq), lastSeq);
  assert.equal(first.log_index, first.seq);
  const envelope = JSON.parse(first.envelope);
  const payload = Buffer.from(envelope.payload, "base64");
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${payload.length} `),
    payload,
  ]);
  const x = Buffer.from(example.receiptKey, "hex").toString("base64url");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  assert.equal(verifyEd25519(null, pae, key, Buffer.from(envelope.signatures[0].sig, "base64")), true);
  assert.equal(JSON.parse(payload).ledger_seq, first.seq);
});
check("the doc prints verify.mjs's verifier as it is", () => {
  const section = doc.slice(doc.indexOf("### JavaScript"), doc.indexOf("### Rust"));
  const block = section.match(/```js\n([\s\S]*?)\n```/)[1];
  assert.ok(block.includes("export function verify("), "the first js block is the verifier");
  assert.ok(readFileSync(verifier, "utf8").includes(block), "docs/webhooks.md's verifier differs from verify.mjs");
});

// The command, with check_signatures.py's contract.
function run(args, deliveries) {
  const result = spawnSync(process.execPath, [verifier, ...args], { input: JSON.stringify(deliveries), encoding: "utf8" });
  return { status: result.status, out: result.stdout };
}
check("the command: exit 0 when every delivery verifies under every key, 1 when one does not, 2 when unusable", () => {
  const example = exampleFromDoc();
  const delivery = { headers: example.headers, body_b64: example.body.toString("base64") };
  const tampered = { headers: example.headers, body_b64: Buffer.from("{}").toString("base64") };
  const keys = ["--secret", example.secret, "--public-key", example.publicKey, "--now", example.headers["webhook-timestamp"]];
  let got = run(keys, [delivery, delivery]);
  assert.equal(got.status, 0, got.out);
  assert.match(got.out, /msg_receipts_3_41_41: verified\n.*\n2 of 2 verified\n$/);
  got = run(keys, [delivery, tampered]);
  assert.equal(got.status, 1, got.out);
  assert.match(got.out, /NOT verified: v1: no signature matches a trusted key; v1a: no signature matches a trusted key/);
  assert.match(got.out, /1 of 2 verified/);
  // Each key on its own: a second secret the header was not signed with fails the delivery.
  const other = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  got = run([...keys, "--secret", other], [delivery]);
  assert.equal(got.status, 1, got.out);
  assert.match(got.out, /v1 key 2: no signature matches/);
  // The clock is the default: the example is years old.
  got = run(["--public-key", example.publicKey], [delivery]);
  assert.equal(got.status, 1, got.out);
  assert.match(got.out, /s old, beyond the 300 s tolerance/);
  assert.equal(run([], [delivery]).status, 2);
  assert.equal(run(["--secret", "nope"], [delivery]).status, 2);
  assert.equal(run(["--secret", example.secret, "--wat", "1"], [delivery]).status, 2);
  assert.equal(spawnSync(process.execPath, [verifier, "--secret", example.secret], { input: "{not json" }).status, 2);
});

const EXPECTED_CHECKS = 13;
if (passed + failures.length !== EXPECTED_CHECKS) {
  failures.push(`ran ${passed + failures.length} checks, expected ${EXPECTED_CHECKS}: one was skipped or added`);
}
for (const failure of failures) console.error(`FAILED ${failure}`);
console.log(`${passed} of ${EXPECTED_CHECKS} checks passed`);
process.exitCode = failures.length > 0 ? 1 : 0;
