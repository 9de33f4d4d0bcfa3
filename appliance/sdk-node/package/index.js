'use strict';
/**
 * Trust Fabric partner SDK for Node.js.
 *
 * Reach a Trust Fabric appliance over QUIC to have Groth16 proofs (snarkjs) and BLS
 * signatures verified, and get signed receipts that check offline. The protocol, snarkjs
 * parsing, TLS and retries are the Rust SDK's (`tf_partner`), compiled into this package's
 * native addon; this module gives them Promises, options objects, typed errors and types.
 *
 * From an operator's invite to a verified receipt:
 *
 * ```js
 * const { onboard, Partner, verifyReceipt } = require('@trust-fabric/partner');
 *
 * const me = await onboard({ invite: 'tfi1.12.0f3a...', connect: 'appliance.example.com:4433',
 *                            tenant: 'pilot-initech' });
 * const partner = await Partner.connect({ stateDir: me.dir });
 * try {
 *   const keyId = await partner.registerKey('verification_key.json');
 *   const verdict = await partner.submitGroth16({ keyId, proof: 'proof.json',
 *     public: 'public.json', purpose: 'kyc', datasetClass: 'P1' });
 *   const facts = verifyReceipt(verdict, me.receiptPublicKey);
 *   console.log(verdict.verdict, facts.ledgerSeq);
 * } finally {
 *   await partner.close();
 * }
 * ```
 *
 * Failures throw (or reject with) {@link TrustFabricError} subclasses, see `errors.js`.
 *
 * @module @trust-fabric/partner
 */

const fs = require('node:fs');
const path = require('node:path');

const { InvalidInput, fromNative } = require('./errors.js');

/**
 * Times to ask again while the appliance says busy (or cannot store receipts for a moment),
 * each after the wait it asks for, 30 s in all at most: as `partner --retries`.
 */
const DEFAULT_RETRIES = 4;
/** Milliseconds to wait for the handshake and for each answer. */
const DEFAULT_TIMEOUT_MS = 30_000;

const native = loadNative();

// The results: the facade's serde answers (the field names `partner --json` prints) in
// camelCase, frozen. index.d.ts documents every field.

/** A partner onboarded into a folder: the identity `Partner.connect({stateDir: dir})` reads. */
class Onboarded {
  /** @param {Record<string, unknown>} said the native layer's answer */
  constructor(said) {
    Object.freeze(Object.assign(this, camelCased(said)));
  }
}

/** The appliance's verdict on one statement, and its signed receipt. */
class Verdict {
  /** @param {Record<string, unknown>} said the native layer's answer */
  constructor(said) {
    Object.freeze(Object.assign(this, camelCased(said)));
  }

  /** Whether the statement verified. */
  get valid() {
    return this.verdict === 'valid';
  }

  /** The receipt's DSSE envelope as an object (`payloadType`, `payload`, `signatures`). */
  receiptEnvelope() {
    return JSON.parse(this.receipt);
  }

  /**
   * Writes the receipt to `file` (what `partner receipt verify` and `verifyReceipt()` read).
   * @param {string} file
   * @returns {Promise<string>} the path written
   */
  async saveReceipt(file) {
    await fs.promises.writeFile(file, this.receipt, 'utf8');
    return file;
  }
}

/** One budget cap of the tenant and where it stands. */
class Budget {
  /** @param {Record<string, unknown>} said the native layer's answer */
  constructor(said) {
    // `class` is the cap's dataset class, named as everywhere else in the SDK.
    Object.freeze(Object.assign(this, camelCased(said, { class: 'datasetClass' })));
  }
}

/** What a genuine receipt says (returned only once its signature checked out). */
class ReceiptFacts {
  /** @param {Record<string, unknown>} said the native layer's answer */
  constructor(said) {
    Object.freeze(Object.assign(this, camelCased(said)));
  }
}

/** An evidence bundle, checked against the appliance's receipt key: what it holds. */
class EvidenceSummary {
  /** @param {Record<string, unknown>} said the native layer's answer */
  constructor(said) {
    const summary = camelCased(said);
    for (const list of ['receipts', 'notYetLogged', 'files']) {
      Object.freeze(summary[list]);
    }
    Object.freeze(Object.assign(this, summary));
  }
}

/**
 * `said` with its snake_case names in camelCase (`request_id` is `requestId`), or as
 * `renamed` says.
 * @param {Record<string, unknown>} said
 * @param {Record<string, string>} [renamed]
 */
function camelCased(said, renamed = {}) {
  return Object.fromEntries(Object.entries(said).map(([name, value]) => [
    renamed[name] ?? name.replace(/_([a-z0-9])/g, (_, next) => next.toUpperCase()), value]));
}

/**
 * Becomes a tenant with an operator's invite, as `partner onboard` does.
 *
 * Makes an ECDSA P-256 key pair on this machine and writes its private key to
 * `out/client.key` before anything is sent (the private key never leaves the machine);
 * connects to `connect` (`HOST:PORT`) and goes on only if the appliance presents the CA the
 * invite names; sends the invite and a certificate request for the key; writes the
 * certificate, the CA and a `partner.toml` beside the key.
 *
 * @param {import('./index').OnboardOptions} options
 * @returns {Promise<Onboarded>}
 * @throws {import('./errors.js').OnboardingRefused} the invite is used, expired, revoked,
 *   unknown, for another tenant, or the tenant exists (`reason` says which); the key made is
 *   removed
 */
async function onboard(options) {
  const { invite, connect, tenant } = texts(options, 'onboard', ['invite', 'connect', 'tenant']);
  const said = await call(() => native.onboard(
    invite, connect, tenant, optionalText(options.out, 'out'),
    optionalText(options.serverName, 'serverName'), retries(options), timeoutMs(options)));
  return new Onboarded(JSON.parse(said));
}

/**
 * A connection to an appliance as one tenant.
 *
 * Open one with {@link Partner.connect} (a folder that onboarding wrote) or
 * {@link Partner.connectFiles}, and close it with {@link Partner#close}. Requests on one
 * connection may run concurrently (`Promise.all`). Each request is asked again, after the wait
 * the appliance asks for, while it says busy, as `retries` allows; other answers are returned
 * or thrown at once.
 */
class Partner {
  /** The native addon's client. */
  #native;

  /**
   * Use {@link Partner.connect} or {@link Partner.connectFiles}.
   * @param {unknown} client the native addon's client
   */
  constructor(client) {
    if (!(client instanceof native.Client)) {
      throw new TypeError('use Partner.connect() or Partner.connectFiles() to make a Partner');
    }
    this.#native = client;
  }

  /**
   * Connects as the identity in `stateDir`, a folder with a `partner.toml` (as `onboard()` or
   * `partner onboard` wrote it, or an appliance's state directory).
   * @param {import('./index').ConnectOptions} options
   * @returns {Promise<Partner>}
   */
  static async connect(options) {
    const { stateDir } = texts(options, 'Partner.connect', ['stateDir']);
    return new Partner(await call(() => native.Client.connectDir(
      stateDir, retries(options), timeoutMs(options))));
  }

  /**
   * Connects to `address` (`HOST:PORT`) with PEM files: the appliance's CA, this tenant's
   * client certificate and its private key. `serverName` is the name the appliance's
   * certificate must carry (default: the host of `address`).
   * @param {import('./index').ConnectFilesOptions} options
   * @returns {Promise<Partner>}
   */
  static async connectFiles(options) {
    const { address, ca, cert, key } = texts(options, 'Partner.connectFiles',
      ['address', 'ca', 'cert', 'key']);
    return new Partner(await call(() => native.Client.connectFiles(
      address, ca, cert, key, optionalText(options.serverName, 'serverName'), retries(options),
      timeoutMs(options))));
  }

  /**
   * The appliance's receipt key from `partner.toml` (64 hex digits), if it names one: what
   * `verifyReceipt()` checks receipts with.
   * @returns {string | null}
   */
  get receiptPublicKey() {
    return this.#native.receiptPublicKey ?? null;
  }

  /**
   * Registers a Groth16 verifying key and returns its key id (64 hex digits). Registering a
   * key again is harmless and returns the same id.
   * @param {import('./index').JsonInput} vkey snarkjs `verification_key.json`: a path, the
   *   parsed object, or its JSON text (curves `bn128` and `bls12381`)
   * @returns {Promise<string>}
   */
  async registerKey(vkey) {
    const text = await jsonText(vkey, 'verifying key');
    return call(() => this.#native.registerKeyJson(text));
  }

  /**
   * Submits a Groth16 proof under a registered key and returns the verdict and its receipt.
   * An invalid proof is a verdict (`verdict.verdict === "invalid"`), not an error.
   * @param {import('./index').Groth16Submission} submission
   * @returns {Promise<Verdict>}
   */
  async submitGroth16(submission) {
    const { keyId, purpose, datasetClass } = texts(submission, 'submitGroth16',
      ['keyId', 'purpose', 'datasetClass']);
    const { proof } = required(submission, 'submitGroth16', ['proof']);
    const inputs = submission.public ?? submission.publicSignals;
    if (inputs === undefined || inputs === null) {
      throw new TypeError('submitGroth16: public (or publicSignals) is required');
    }
    const [proofText, publicText] = await Promise.all([
      jsonText(proof, 'proof'), jsonText(inputs, 'public inputs')]);
    const said = await call(() => this.#native.submitGroth16Json(
      keyId, proofText, publicText, purpose, datasetClass));
    return new Verdict(JSON.parse(said));
  }

  /**
   * Submits a BLS signature (Ethereum ciphersuite, min-pk) and returns the verdict and its
   * receipt. One key and one message is a single signature; several keys and one message a
   * fast aggregate; as many messages as keys an aggregate.
   * @param {import('./index').BlsSubmission} submission
   * @returns {Promise<Verdict>}
   */
  async submitBls(submission) {
    const { purpose, datasetClass } = texts(submission, 'submitBls', ['purpose', 'datasetClass']);
    const { publicKeys, messages, signature } = required(submission, 'submitBls',
      ['publicKeys', 'messages', 'signature']);
    const said = await call(() => this.#native.submitBls(
      many(publicKeys).map((key) => bytes(key, 'public key')),
      many(messages).map((message) => bytes(message, 'message')),
      bytes(signature, 'signature'), purpose, datasetClass));
    return new Verdict(JSON.parse(said));
  }

  /**
   * The tenant's budget caps and where they stand (empty when it has none).
   * @returns {Promise<Budget[]>}
   */
  async budgets() {
    const said = await call(() => this.#native.budgets());
    return JSON.parse(said).map((cap) => new Budget(cap));
  }

  /**
   * Asks for other terms, given in full (a cap left out is removed). Within the invite's
   * template they are in force when this resolves (`revision`); above it they wait for an
   * operator (`waiting`), and `detail` says what is above.
   * @param {{ratePerSec: number, burst: number, maxRegisteredKeys: number,
   *   caps?: Array<{datasetClass: string, window: string, limit: number}>}} terms
   * @returns {Promise<{termsRequest: number, revision: number | null, waiting: boolean,
   *   detail: string}>}
   */
  async requestTerms(terms) {
    const { ratePerSec, burst, maxRegisteredKeys } = required(terms, 'requestTerms',
      ['ratePerSec', 'burst', 'maxRegisteredKeys']);
    const asked = {
      rate_per_sec: ratePerSec,
      burst,
      max_registered_keys: maxRegisteredKeys,
      caps: (terms.caps || []).map((cap) => ({
        class: cap.datasetClass, window: cap.window, limit: cap.limit,
      })),
    };
    const said = await call(() => this.#native.requestTerms(JSON.stringify(asked)));
    return Object.freeze(camelCased(JSON.parse(said)));
  }

  /**
   * Where onboarding stands: each step done, or what to do. Name the receipts (their
   * `ledgerSeq`, as `verifyReceipt()` reads it) of a sandbox submission and of a first real
   * one; once every step is done the checklist comes signed (`envelope`).
   * @param {{sandboxReceipt?: number, firstReceipt?: number}} [named]
   * @returns {Promise<{steps: Array<{name: string, done: boolean, detail: string}>,
   *   complete: boolean, envelope: string | null}>}
   */
  async checklist(named = {}) {
    const said = await call(() => this.#native.checklist(named.sandboxReceipt || 0,
      named.firstReceipt || 0));
    const answer = JSON.parse(said);
    return Object.freeze({
      steps: Object.freeze(answer.steps.map((step) => Object.freeze({ ...step }))),
      complete: answer.complete,
      envelope: answer.envelope ?? null,
    });
  }

  /**
   * The evidence preview, as `partner evidence preview` makes it: the bundle an auditor would
   * get, over receipts of your sandbox submissions (purpose `SANDBOX_PURPOSE`), made and
   * signed by the appliance. It is checked here against the appliance's receipt key, then
   * written into `out`: the receipts, their transparency-log proofs, your budget statements
   * (`budgets.json`) and the signed manifest (`manifest.dsse.json`). `verifyEvidence()` checks
   * the folder again, offline.
   * @param {import('./index').SandboxReceipt | import('./index').SandboxReceipt[]} receipts 1
   *   to 16 receipts of sandbox submissions, each its `ledgerSeq`, its `ReceiptFacts`, or the
   *   `Verdict` that brought it (its receipt is checked with `receiptPublicKey` to read it)
   * @param {{out: string}} options `out`: the folder to write, new or empty
   * @returns {Promise<EvidenceSummary>}
   * @throws {import('./errors.js').Denied} a receipt is not one of this tenant's sandbox
   *   submissions
   */
  async evidencePreview(receipts, options) {
    const { out } = texts(options, 'evidencePreview', ['out']);
    const seqs = many(receipts).map((receipt) => this.#ledgerSeq(receipt));
    const said = await call(() => this.#native.evidencePreview(seqs, out));
    return new EvidenceSummary(JSON.parse(said));
  }

  /** The ledger sequence number of a receipt named for the evidence preview. */
  #ledgerSeq(receipt) {
    if (receipt instanceof ReceiptFacts) {
      return receipt.ledgerSeq;
    }
    if (receipt instanceof Verdict) {
      // Read from the receipt only once it checks out: the SDK's reader, not one of ours.
      const key = this.receiptPublicKey;
      if (key === null) {
        throw new InvalidInput('this connection has no receipt key (partner.toml names none) '
          + "to read a verdict's receipt with: name it by verifyReceipt(verdict, key).ledgerSeq");
      }
      return verifyReceipt(receipt, key).ledgerSeq;
    }
    if (typeof receipt === 'number') {
      if (Number.isSafeInteger(receipt) && receipt >= 0) {
        return receipt;
      }
      throw new InvalidInput(`receipts: ${receipt} is no ledger sequence number`);
    }
    throw new TypeError('evidencePreview: receipts are ledger sequence numbers, Verdicts or '
      + `ReceiptFacts, not ${receipt}`);
  }

  /**
   * Closes the connection politely; requests after it fail with `ConnectionLost`.
   * @returns {Promise<void>}
   */
  async close() {
    await call(() => this.#native.close());
  }
}

/**
 * Checks a receipt offline: its signature by the appliance's receipt key, then what it says.
 * No connection is made, and it returns at once (not a Promise).
 * @param {import('./index').ReceiptInput} receipt
 * @param {string | Uint8Array} publicKey
 * @returns {ReceiptFacts}
 */
function verifyReceipt(receipt, publicKey) {
  const text = receipt instanceof Verdict ? receipt.receipt : jsonTextSync(receipt, 'receipt');
  const key = publicKey instanceof Uint8Array ? Buffer.from(publicKey).toString('hex') : publicKey;
  if (typeof key !== 'string') {
    throw new TypeError('verifyReceipt: publicKey is 64 hex digits or 32 bytes');
  }
  const said = callSync(() => native.verifyReceipt(text, key));
  return new ReceiptFacts(JSON.parse(said));
}

/**
 * Checks a signed checklist offline with the appliance's receipt key and returns what it
 * says (`tenant`, `invite`, `steps`, `completed_at`...).
 * @param {string} envelope
 * @param {string} publicKey
 * @returns {object}
 */
function verifyChecklist(envelope, publicKey) {
  const said = callSync(() => native.verifyChecklist(envelope, publicKey));
  return JSON.parse(said);
}

/**
 * Checks an evidence bundle's folder offline, as an auditor does (`partner evidence verify`):
 * the manifest's signature by the appliance's receipt key, then every file against the
 * manifest. No connection is made, and it returns at once (not a Promise).
 * @param {string} dir the bundle's folder, as `Partner#evidencePreview` wrote it
 * @param {string | Uint8Array} publicKey the receipt key, 64 hex digits or 32 bytes
 * @returns {EvidenceSummary}
 * @throws {import('./errors.js').ReceiptInvalid} a file was altered, removed or added, or the
 *   manifest is not signed by this key; the message names every problem
 */
function verifyEvidence(dir, publicKey) {
  if (typeof dir !== 'string') {
    throw new TypeError('verifyEvidence: dir is the path of a folder');
  }
  const key = publicKey instanceof Uint8Array ? Buffer.from(publicKey).toString('hex') : publicKey;
  if (typeof key !== 'string') {
    throw new TypeError('verifyEvidence: publicKey is 64 hex digits or 32 bytes');
  }
  const said = callSync(() => native.verifyEvidence(dir, key));
  return new EvidenceSummary(JSON.parse(said));
}

/** The purpose of sandbox submissions (the evidence preview). */
const SANDBOX_PURPOSE = 'sandbox';

/** Runs a native call that returns a Promise; its failure as the typed error. */
async function call(request) {
  try {
    return await request();
  } catch (error) {
    throw fromNative(error);
  }
}

/** Runs a synchronous native call; its failure as the typed error. */
function callSync(request) {
  try {
    return request();
  } catch (error) {
    throw fromNative(error);
  }
}

/** The options object, with the named options present. */
function required(options, what, names) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${what}: expected an options object with ${names.join(', ')}`);
  }
  for (const name of names) {
    if (options[name] === undefined || options[name] === null) {
      throw new TypeError(`${what}: ${name} is required`);
    }
  }
  return options;
}

/** The options object, with the named options present and strings. */
function texts(options, what, names) {
  required(options, what, names);
  for (const name of names) {
    if (typeof options[name] !== 'string') {
      throw new TypeError(`${what}: ${name} is a string, not ${typeof options[name]}`);
    }
  }
  return options;
}

function optionalText(value, what) {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new TypeError(`${what}: expected a string`);
  }
  return value;
}

function retries(options) {
  const value = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(value) || value < 0 || value > 1000) {
    throw new TypeError(`retries: expected a whole number from 0 to 1000, not ${value}`);
  }
  return value;
}

function timeoutMs(options) {
  const value = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`timeoutMs: expected a positive number of milliseconds, not ${value}`);
  }
  return value;
}

/** JSON text from a parsed object, JSON text, bytes, or a path to a file (read here). */
async function jsonText(value, what) {
  const text = inlineJson(value, what);
  if (text !== undefined) {
    return text;
  }
  const file = filePath(value, what);
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInput(`${file}: ${error.message}`, { cause: error });
  }
}

/** As {@link jsonText}, reading a file synchronously. */
function jsonTextSync(value, what) {
  const text = inlineJson(value, what);
  if (text !== undefined) {
    return text;
  }
  const file = filePath(value, what);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidInput(`${file}: ${error.message}`, { cause: error });
  }
}

/** JSON text when `value` holds it (an object, bytes, or text starting `{` or `[`). */
function inlineJson(value, what) {
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  }
  if (typeof value === 'string') {
    const start = value.trimStart()[0];
    return start === '{' || start === '[' ? value : undefined;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof URL)) {
    // snarkjs hands out strings, but a caller's own objects may hold BigInts.
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
  if (value === undefined || value === null || typeof value === 'number') {
    throw new TypeError(`${what}: expected a path, a parsed JSON object or JSON text, not ${value}`);
  }
  return undefined;
}

function filePath(value, what) {
  if (value instanceof URL) {
    return value.protocol === 'file:' ? require('node:url').fileURLToPath(value) : fail();
  }
  if (typeof value === 'string') {
    return value;
  }
  return fail();

  function fail() {
    throw new TypeError(`${what}: expected a path, a parsed JSON object or JSON text`);
  }
}

function many(value) {
  return Array.isArray(value) ? value : [value];
}

/** Bytes from a Uint8Array (a Buffer is one) or hex text (`0x` allowed). */
function bytes(value, what) {
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof value === 'string') {
    const text = value.trim().replace(/^0[xX]/, '');
    if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
      throw new InvalidInput(`${what}: not hex: ${JSON.stringify(value.slice(0, 20))}`);
    }
    return Buffer.from(text, 'hex');
  }
  throw new TypeError(`${what}: expected a Uint8Array or hex text`);
}

/**
 * The native addon built for this platform, beside this file: `trust-fabric.<platform>.node`
 * as napi-rs names them (`linux-x64-gnu`, `darwin-arm64`, ...).
 */
function loadNative() {
  const names = platformNames().map((platform) => `trust-fabric.${platform}.node`);
  const present = names.filter((name) => fs.existsSync(path.join(__dirname, name)));
  if (present.length > 0) {
    return require(path.join(__dirname, present.length === 1 ? present[0] : preferred(present)));
  }
  throw new Error(`@trust-fabric/partner has no native addon for ${process.platform}-${process.arch}: `
    + `looked for ${names.join(', ')} in ${__dirname}. Build the package on this platform `
    + '(appliance/sdk-node/build-package in the Trust Fabric repository).');
}

function platformNames() {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' ? [`${base}-gnu`, `${base}-musl`] : [base];
}

/** Of a glibc and a musl build, the one for this Node (asking Node's report, which is slow). */
function preferred(present) {
  const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
  return present.find((name) => name.includes(glibc ? '-gnu.' : '-musl.')) ?? present[0];
}

module.exports = {
  onboard,
  Partner,
  verifyReceipt,
  verifyChecklist,
  verifyEvidence,
  SANDBOX_PURPOSE,
  Onboarded,
  Verdict,
  Budget,
  ReceiptFacts,
  EvidenceSummary,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  ...require('./errors.js'),
};
