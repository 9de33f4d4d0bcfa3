// Checks Standard Webhooks messages the appliance sent, with Node's own `crypto` and nothing
// else: the JavaScript verifier docs/webhooks.md shows (the block from the `node:crypto`
// import to `strictBase64` is printed there as it is here; verify_test.mjs checks that).
//
// As a library: `verify(headers, body, {secrets, publicKeys, toleranceS, nowS})`.
//
// As a command, with the contract of check_signatures.py:
//   node verify.mjs [--secret whsec_...]... [--public-key whpk_...]... \
//                   [--tolerance-s S] [--now UNIX_S] < deliveries.json
// Input (stdin): a JSON list of deliveries, each {"headers": {name: value}, "body_b64": "..."}.
// Prints one line per delivery and exits 0 only if every delivery verifies under every key
// given, each key on its own (a scheme the header lacks counts as a failure); 1 otherwise; 2
// for unusable arguments or input. `--tolerance-s` (default 300) and `--now` (default: the
// clock) set the timestamp check.

import { createHmac, createPublicKey, timingSafeEqual, verify as verifyEd25519 } from "node:crypto";

/** The spec's replay window, either side of the receiver's clock. */
export const TOLERANCE_S = 5 * 60;
/** Signatures looked at per message: a bound on the work a forged header can cause. */
const MAX_SIGNATURES = 16;

/**
 * Checks one message as a receiver must: the three headers present, the timestamp within
 * `toleranceS` of `nowS` either way, and one signature valid under one trusted key.
 * `headers`: the request's headers, any case (a plain object, or a fetch `Headers`);
 * `body`: the raw body bytes as received (a Buffer or Uint8Array), never re-serialised JSON;
 * `secrets`: trusted `whsec_…` secrets (`v1`); `publicKeys`: trusted `whpk_…` keys (`v1a`).
 * Returns `{ ok: true, scheme }` or `{ ok: false, reason }`; throws only for a malformed key.
 */
export function verify(
  headers,
  body,
  { secrets = [], publicKeys = [], toleranceS = TOLERANCE_S, nowS = Math.floor(Date.now() / 1000) } = {},
) {
  if (secrets.length === 0 && publicKeys.length === 0) throw new TypeError("trust at least one key");
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id) return refused("missing `webhook-id` header");
  if (!timestamp) return refused("missing `webhook-timestamp` header");
  if (!signatures) return refused("missing `webhook-signature` header");
  if (id.includes(".")) return refused("`webhook-id` contains `.`, which makes the signed content ambiguous");
  if (!/^[0-9]{1,20}$/.test(timestamp)) return refused("`webhook-timestamp` is not integer unix seconds");
  const ahead = Number(timestamp) - nowS;
  if (ahead < -toleranceS) return refused(`\`webhook-timestamp\` is ${-ahead} s old, beyond the ${toleranceS} s tolerance`);
  if (ahead > toleranceS) return refused(`\`webhook-timestamp\` is ${ahead} s in the future, beyond the ${toleranceS} s tolerance`);

  // Signed: `{id}.{timestamp}.{body}`, the timestamp as sent and the body's bytes as received.
  const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]);
  // `scheme,base64` tokens, space-separated; unknown schemes and malformed tokens are skipped.
  const offered = signatures
    .split(" ")
    .filter((token) => token.includes(","))
    .slice(0, MAX_SIGNATURES)
    .map((token) => [token.slice(0, token.indexOf(",")), token.slice(token.indexOf(",") + 1)]);

  for (const secret of secrets) {
    const expected = createHmac("sha256", secretBytes(secret)).update(content).digest();
    for (const [scheme, value] of offered) {
      const theirs = scheme === "v1" && strictBase64(value, 32);
      if (theirs && timingSafeEqual(theirs, expected)) return { ok: true, scheme: "v1" };
    }
  }
  for (const publicKey of publicKeys) {
    const key = ed25519PublicKey(publicKey);
    for (const [scheme, value] of offered) {
      const theirs = scheme === "v1a" && strictBase64(value, 64);
      if (theirs && verifyEd25519(null, content, key, theirs)) return { ok: true, scheme: "v1a" };
    }
  }
  const schemes = [...(secrets.length ? ["v1"] : []), ...(publicKeys.length ? ["v1a"] : [])];
  if (!offered.some(([scheme]) => schemes.includes(scheme))) {
    return refused(`\`webhook-signature\` has no ${schemes.join(" or ")} signature`);
  }
  return refused("no signature matches a trusted key");
}

function refused(reason) {
  return { ok: false, reason };
}

/** A header's value by case-insensitive name, or undefined. */
function header(headers, name) {
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof value === "string" ? value : undefined;
}

/** The HMAC key of a `whsec_` secret: base64 (padding optional) of 24 to 64 bytes. */
function secretBytes(secret) {
  const bytes = secret.startsWith("whsec_") ? lenientBase64(secret.slice("whsec_".length)) : null;
  if (!bytes || bytes.length < 24 || bytes.length > 64) {
    throw new TypeError("a v1 secret is `whsec_` and the base64 of 24 to 64 bytes");
  }
  return bytes;
}

/** A `whpk_` key (base64 of the raw 32-byte Ed25519 public key) as a Node key object. */
function ed25519PublicKey(publicKey) {
  const raw = publicKey.startsWith("whpk_") ? lenientBase64(publicKey.slice("whpk_".length)) : null;
  if (!raw || raw.length !== 32) {
    throw new TypeError("a v1a public key is `whpk_` and the base64 of 32 bytes");
  }
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

/** Standard base64 with its padding optional (keys get copied by hand), else null. */
function lenientBase64(text) {
  const bare = text.replace(/={1,2}$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1) return null;
  return Buffer.from(bare, "base64");
}

/** Exactly `length` bytes written as padded standard base64, as the appliance writes them. */
function strictBase64(text, length) {
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length && bytes.toString("base64") === text ? bytes : null;
}

// ---------------------------------------------------------------------------------------------
// The command.

import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const USAGE =
  "usage: node verify.mjs [--secret whsec_...]... [--public-key whpk_...]... " +
  "[--tolerance-s S] [--now UNIX_S] < deliveries.json";

/** Runs the command; its exit code. */
export function main(argv, stdin, print) {
  const args = { secrets: [], publicKeys: [], toleranceS: TOLERANCE_S, nowS: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].startsWith("--") && argv[i].includes("=")
      ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)]
      : [argv[i], undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) return usage(print, `${flag} needs a value`);
    if (flag === "--secret") args.secrets.push(value);
    else if (flag === "--public-key") args.publicKeys.push(value);
    else if (flag === "--tolerance-s" && /^[0-9]+$/.test(value)) args.toleranceS = Number(value);
    else if (flag === "--now" && /^[0-9]+$/.test(value)) args.nowS = Number(value);
    else return usage(print, `unexpected ${JSON.stringify(argv[i])}`);
  }
  if (args.secrets.length === 0 && args.publicKeys.length === 0) {
    return usage(print, "give --secret, --public-key or both");
  }
  const nowS = args.nowS ?? Math.floor(Date.now() / 1000);
  // Each key on its own, labelled as check_signatures.py labels its two.
  const keys = [
    ...args.secrets.map((secret, i) => [label("v1", i, args.secrets.length), { secrets: [secret] }]),
    ...args.publicKeys.map((key, i) => [label("v1a", i, args.publicKeys.length), { publicKeys: [key] }]),
  ];
  try {
    args.secrets.forEach(secretBytes);
    args.publicKeys.forEach(ed25519PublicKey);
  } catch (error) {
    return usage(print, error.message);
  }

  let deliveries;
  try {
    deliveries = JSON.parse(stdin);
    if (!Array.isArray(deliveries)) throw new Error("not a JSON list");
  } catch (error) {
    print(`stdin: expected a JSON list of {"headers", "body_b64"}: ${error.message}`);
    return 2;
  }
  let failed = 0;
  for (const delivery of deliveries) {
    const headers = delivery?.headers ?? {};
    const body = Buffer.from(delivery?.body_b64 ?? "", "base64");
    const problems = [];
    for (const [name, trusted] of keys) {
      const result = verify(headers, body, { ...trusted, toleranceS: args.toleranceS, nowS });
      if (!result.ok) problems.push(`${name}: ${result.reason}`);
    }
    const name = header(headers, "webhook-id") ?? "?";
    if (problems.length > 0) {
      failed += 1;
      print(`${name}: NOT verified: ${problems.join("; ")}`);
    } else {
      print(`${name}: verified`);
    }
  }
  print(`${deliveries.length - failed} of ${deliveries.length} verified`);
  return failed > 0 ? 1 : 0;
}

function label(scheme, index, count) {
  return count > 1 ? `${scheme} key ${index + 1}` : scheme;
}

function usage(print, problem) {
  print(`${USAGE}\nverify.mjs: ${problem}`);
  return 2;
}

function invokedAsCommand() {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedAsCommand()) {
  process.exitCode = main(process.argv.slice(2), readFileSync(0, "utf8"), (line) => console.log(line));
}
