/**
 * Trust Fabric partner SDK for Node.js: onboard with an operator's invite, register snarkjs
 * verifying keys, submit Groth16 proofs and BLS signatures over QUIC, check the signed
 * receipts offline. Every function that talks to the appliance returns a Promise; failures
 * are {@link TrustFabricError} subclasses.
 *
 * @example
 * ```ts
 * import { onboard, Partner, verifyReceipt } from '@trust-fabric/partner';
 *
 * const me = await onboard({ invite, connect: 'appliance.example.com:4433', tenant: 'pilot-initech' });
 * const partner = await Partner.connect({ stateDir: me.dir });
 * try {
 *   const keyId = await partner.registerKey('verification_key.json');
 *   const verdict = await partner.submitGroth16({
 *     keyId, proof: 'proof.json', public: 'public.json', purpose: 'kyc', datasetClass: 'P1',
 *   });
 *   console.log(verdict.verdict, verifyReceipt(verdict, me.receiptPublicKey).ledgerSeq);
 * } finally {
 *   await partner.close();
 * }
 * ```
 *
 * @packageDocumentation
 */

/**
 * JSON given as a path to a file (read by the SDK), a `file:` URL, the parsed object or array
 * (snarkjs's own objects, such as `fullProve`'s `proof` and `publicSignals`), JSON text
 * (starting with `{` or `[`), or its UTF-8 bytes.
 */
export type JsonInput = string | Uint8Array | object;

/** Bytes: a `Uint8Array` (a `Buffer` is one), or the same in hex (`0x` allowed). */
export type BytesInput = Uint8Array | string;

/** A dataset's sensitivity class. */
export type DatasetClass = 'P0' | 'P1' | 'P2';

/** A verdict: the statement verified, did not, or could not be read as one. */
export type VerdictWord = 'valid' | 'invalid' | 'rejected';

/** A receipt to check: a {@link Verdict}, the envelope object, its JSON text, or a path to it. */
export type ReceiptInput = Verdict | JsonInput;

/**
 * Times to ask again while the appliance says busy (or cannot store receipts for a moment),
 * each after the wait it asks for, 30 s in all at most: 4, as `partner --retries`.
 */
export declare const DEFAULT_RETRIES: number;

/** Milliseconds to wait for the handshake and for each answer: 30000. */
export declare const DEFAULT_TIMEOUT_MS: number;

/** How to wait and ask again; every option is optional. */
export interface RetryOptions {
  /**
   * Times to ask again, after the first, while the appliance says busy, each after the wait
   * it asks for (plus up to a tenth), 30 s in all at most. Default {@link DEFAULT_RETRIES};
   * `0` never retries. Nothing else is retried: a verdict, over budget or denied would be the
   * same, and a lost connection may have been answered.
   */
  retries?: number;
  /** Milliseconds to wait for the handshake and for each answer. Default 30000. */
  timeoutMs?: number;
}

/** What {@link onboard} needs. */
export interface OnboardOptions extends RetryOptions {
  /** The operator's invite, `tfi1.ID.SECRET.CA`; it works once. */
  invite: string;
  /** The appliance's QUIC address, `HOST:PORT` (a DNS name or an IP address). */
  connect: string;
  /**
   * The tenant to become: the name the operator gave, or one under their prefix (1 to 64 of
   * a-z, 0-9, `-` and `_`).
   */
  tenant: string;
  /**
   * The folder to write; default `./partner-<tenant>`. A folder holding an identity already is
   * refused, nothing in it overwritten.
   */
  out?: string;
  /** The name the appliance's certificate must carry; default the host of `connect`. */
  serverName?: string;
}

/** What {@link Partner.connect} needs. */
export interface ConnectOptions extends RetryOptions {
  /**
   * A folder with a `partner.toml`: as {@link onboard} or `partner onboard` wrote it, or an
   * appliance's state directory.
   */
  stateDir: string;
}

/** What {@link Partner.connectFiles} needs. */
export interface ConnectFilesOptions extends RetryOptions {
  /** The appliance's QUIC address, `HOST:PORT`. */
  address: string;
  /** The appliance's CA certificate (PEM file). */
  ca: string;
  /** This tenant's client certificate (PEM file). */
  cert: string;
  /** This tenant's private key (PEM file). */
  key: string;
  /** The name the appliance's certificate must carry; default the host of `address`. */
  serverName?: string;
}

/** Why a request is made, and the data's class: budgets are kept per purpose and class. */
export interface Declared {
  /** Why the data is processed (budgets are kept per purpose), such as `"kyc"`. */
  purpose: string;
  /** The data's sensitivity class. */
  datasetClass: DatasetClass;
}

/** The public inputs of a Groth16 proof, as snarkjs's `public.json`. */
export type PublicInputs =
  | { public: JsonInput; publicSignals?: never }
  | { publicSignals: JsonInput; public?: never };

/**
 * A Groth16 proof to submit under a registered key. `public` and `publicSignals` are the same
 * thing, so snarkjs's `fullProve` answer can be spread in:
 * `partner.submitGroth16({ keyId, ...(await groth16.fullProve(input, wasm, zkey)), purpose, datasetClass })`.
 */
export type Groth16Submission = Declared & PublicInputs & {
  /** The id {@link Partner.registerKey} returned (64 hex digits). */
  keyId: string;
  /** snarkjs `proof.json`: a path, the parsed object (`fullProve`'s `proof`), or JSON text. */
  proof: JsonInput;
};

/**
 * A BLS signature to submit (Ethereum ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`,
 * public keys in G1). One key and one message is a single signature; several keys and one
 * message a fast aggregate; as many messages as keys an aggregate.
 */
export interface BlsSubmission extends Declared {
  /** The 48-byte compressed public key, or several for an aggregate. */
  publicKeys: BytesInput | BytesInput[];
  /** The message, or one per key for an aggregate over distinct messages. */
  messages: BytesInput | BytesInput[];
  /** The 96-byte compressed signature. */
  signature: BytesInput;
}

/** A partner onboarded into a folder: the identity `Partner.connect({ stateDir: dir })` reads. */
export declare class Onboarded {
  private constructor();
  /** The tenant now in force. */
  readonly tenant: string;
  /** The policy bundle revision that put it in force. */
  readonly revision: number;
  /** The folder holding the key, the certificates and `partner.toml`. */
  readonly dir: string;
  /** Its `partner.toml`. */
  readonly config: string;
  /** The tenant's client certificate (PEM). */
  readonly certificate: string;
  /** The appliance's CA certificate (PEM). */
  readonly ca: string;
  /** The private key made on this machine (PEM, readable by its owner only). */
  readonly key: string;
  /** The key receipts are signed with, 64 hex digits: pass it to {@link verifyReceipt}. */
  readonly receiptPublicKey: string;
  /** The transparency log's verifier key, or `null` when the appliance keeps no log. */
  readonly logKey: string | null;
}

/** The appliance's verdict on one statement, and its signed receipt. */
export declare class Verdict {
  private constructor();
  /** `"valid"`, `"invalid"` or `"rejected"`. */
  readonly verdict: VerdictWord;
  /** Why, for `invalid` and `rejected`; empty for `valid`. */
  readonly reason: string;
  /** The request id the appliance answered. */
  readonly requestId: number;
  /** What was verified (key id and public inputs, or keys and messages), digested: hex. */
  readonly statementDigest: string;
  /** The signed receipt: its DSSE envelope's JSON text, as `partner submit --receipt` writes it. */
  readonly receipt: string;
  /** Whether the statement verified. */
  readonly valid: boolean;
  /** The receipt's DSSE envelope as an object. */
  receiptEnvelope(): ReceiptEnvelope;
  /**
   * Writes the receipt to `file` (what {@link verifyReceipt} and `partner receipt verify`
   * read); resolves to the path.
   */
  saveReceipt(file: string): Promise<string>;
}

/** A DSSE envelope: the receipt's payload (base64) and the appliance's Ed25519 signature. */
export interface ReceiptEnvelope {
  /** The receipt schema's media type. */
  payloadType: string;
  /** The receipt's JSON, base64. */
  payload: string;
  /** The signatures: key id and base64 signature. */
  signatures: { keyid: string; sig: string }[];
}

/** One budget cap of the tenant and where it stands. */
export declare class Budget {
  private constructor();
  /** The tenant. */
  readonly tenant: string;
  /** The purpose it limits; `null` for a cap across all purposes of its class. */
  readonly purpose: string | null;
  /** The dataset class it limits. */
  readonly datasetClass: DatasetClass;
  /** Its window: `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`. */
  readonly window: string;
  /** Units allowed per window. */
  readonly limit: number;
  /**
   * What the appliance answering may spend of it in the current window: `limit`, or in a
   * fleet of appliances its share of the cap (0 until it has leased one).
   */
  readonly granted: number;
  /** Charged in the current window (in a fleet, by the appliance answering). */
  readonly used: number;
  /** Held by requests still being verified. */
  readonly reserved: number;
  /** Left to spend on the appliance answering: of `granted`, what is neither used nor held. */
  readonly remaining: number;
  /** When it resets (rolling: when enough frees up), RFC 3339; `null` when never. */
  readonly resetsAt: string | null;
  /** The same in Unix milliseconds. */
  readonly resetsAtUnixMs: number | null;
}

/** What a genuine receipt says (returned only once its signature checked out). */
export declare class ReceiptFacts {
  private constructor();
  /** The tenant whose request it was. */
  readonly tenant: string;
  /** The partner's request id. */
  readonly requestId: number;
  /** What was verified, digested (hex). */
  readonly statementDigest: string;
  /** The statement kind, such as `groth16-bn254` or `bls-single`. */
  readonly kind: string;
  /** The verdict the appliance signed. */
  readonly verdict: VerdictWord;
  /** Why, for `invalid` and `rejected`; `null` for `valid`. */
  readonly reason: string | null;
  /** The purpose the request declared. */
  readonly purpose: string;
  /** The dataset class it declared. */
  readonly datasetClass: DatasetClass;
  /** Budget units charged for the request. */
  readonly budgetCharged: number;
  /** The least budget left after it in the caps that applied; `null` when none did. */
  readonly budgetRemaining: number | null;
  /** Its sequence in the appliance's ledger: its index in the transparency log. */
  readonly ledgerSeq: number;
  /** The shard (core) that decided. */
  readonly shard: number;
  /** When the verdict was reached, RFC 3339 (UTC, microseconds). */
  readonly decidedAt: string;
  /** The same in Unix microseconds. */
  readonly decidedAtUnixUs: number;
  /** The policy bundle revision the request was admitted under. */
  readonly bundleRevision: number;
}

/**
 * Becomes a tenant with an operator's invite, as `partner onboard` does.
 *
 * Makes an ECDSA P-256 key pair on this machine and writes its private key to
 * `out/client.key` before anything is sent (the private key never leaves the machine);
 * connects to `connect` and goes on only if the appliance presents the CA the invite names;
 * sends the invite and a certificate request for the key; writes the certificate, the CA and
 * a `partner.toml` beside the key.
 *
 * Rejects with {@link OnboardingRefused} when the invite is used, expired, revoked, unknown,
 * for another tenant, or the tenant exists (`reason` says which; the key made is removed);
 * {@link RateLimited} after too many attempts from this address; {@link ServerNotTrusted}
 * when what answers is not the appliance the invite names; {@link ConnectionFailed} when
 * nothing answers; {@link InvalidInput} when the invite, address, tenant or folder is not
 * usable.
 */
export declare function onboard(options: OnboardOptions): Promise<Onboarded>;

/**
 * A connection to an appliance as one tenant.
 *
 * Open one with {@link Partner.connect} or {@link Partner.connectFiles}, and close it with
 * {@link Partner.close}. Requests on one connection may run concurrently (`Promise.all`).
 * Each request is asked again, after the wait the appliance asks for, while it says busy, as
 * `retries` allows; other answers are returned or thrown at once.
 */
export declare class Partner {
  private constructor();

  /**
   * Connects as the identity in `stateDir`, a folder with a `partner.toml`.
   *
   * Rejects with {@link InvalidInput} when there is no readable `partner.toml` (or a file it
   * names), {@link ConnectionFailed} when nothing answers at its address,
   * {@link ServerNotTrusted} when the appliance's certificate is not from the CA given.
   */
  static connect(options: ConnectOptions): Promise<Partner>;

  /**
   * Connects to `address` (`HOST:PORT`) with PEM files: the appliance's CA, this tenant's
   * client certificate and its private key.
   */
  static connectFiles(options: ConnectFilesOptions): Promise<Partner>;

  /**
   * The appliance's receipt key from `partner.toml` (64 hex digits), if it names one: what
   * {@link verifyReceipt} checks receipts with.
   */
  readonly receiptPublicKey: string | null;

  /**
   * Registers a Groth16 verifying key (snarkjs `verification_key.json`, curves `bn128` and
   * `bls12381`) and resolves to its key id (64 hex digits). Registering a key again is
   * harmless and gives the same id.
   *
   * Rejects with {@link KeyRefused} when the appliance refused the key (or the key quota is
   * full), {@link InvalidInput} when it is not a snarkjs verification key.
   */
  registerKey(vkey: JsonInput): Promise<string>;

  /**
   * Submits a Groth16 proof under a registered key and resolves to the verdict and its
   * receipt. An invalid proof is a verdict (`verdict.verdict === "invalid"`), not an error.
   *
   * Rejects with {@link UnknownKey} when the key is not registered for this tenant,
   * {@link OverBudget} when it would overspend a cap (not verified, not charged),
   * {@link Denied} when the policy in force does not allow it, {@link Busy} when still busy
   * after the retries, {@link InvalidInput} when the proof, inputs or class are not usable
   * (nothing sent).
   */
  submitGroth16(submission: Groth16Submission): Promise<Verdict>;

  /**
   * Submits a BLS signature and resolves to the verdict and its receipt. Rejections as
   * {@link Partner.submitGroth16}'s; keys and messages that do not pair up, or bytes of the
   * wrong length, are {@link InvalidInput} (nothing sent).
   */
  submitBls(submission: BlsSubmission): Promise<Verdict>;

  /** The tenant's budget caps and where they stand (empty when it has none). */
  budgets(): Promise<Budget[]>;

  /**
   * Asks for other terms, given in full (a cap left out is removed). Within the invite's
   * template they are in force when this resolves (`revision`); above it they wait for an
   * operator (`waiting`). Rejects with {@link Denied} for a tenant not onboarded with an
   * invite, {@link Malformed} for terms that would not make a valid bundle.
   */
  requestTerms(terms: TermsAsk): Promise<TermsAnswer>;

  /**
   * Where onboarding stands. Name the receipts (their `ledgerSeq`) of a sandbox submission
   * and of a first real one; once every step is done the checklist comes signed.
   */
  checklist(named?: { sandboxReceipt?: number; firstReceipt?: number }): Promise<Checklist>;

  /**
   * The evidence preview, as `partner evidence preview` makes it: the bundle an auditor would
   * get, over receipts of your sandbox submissions (purpose {@link SANDBOX_PURPOSE}), made and
   * signed by the appliance. It is checked here against the appliance's receipt key, then
   * written into `out` (a new or empty folder): the receipts, their transparency-log proofs,
   * your budget statements (`budgets.json`) and the signed manifest (`manifest.dsse.json`).
   * {@link verifyEvidence} checks the folder again, offline. Receipts logged after the last
   * checkpoint are in `notYetLogged`, with no proofs yet: ask again a few seconds later.
   *
   * Rejects with {@link Denied} when a receipt is not one of this tenant's sandbox
   * submissions, {@link ReceiptInvalid} when the bundle (nothing is written) or a verdict's
   * receipt does not check out, {@link InvalidInput} for no receipts or more than 16, an `out`
   * that is not empty or cannot be written, or a verdict given to a connection with no
   * receipt key (name its `ledgerSeq` instead).
   */
  evidencePreview(
    receipts: SandboxReceipt | ReadonlyArray<SandboxReceipt>,
    options: { out: string },
  ): Promise<EvidenceSummary>;

  /** Closes the connection politely; requests after it reject with {@link ConnectionLost}. */
  close(): Promise<void>;
}

/**
 * Checks a receipt offline: its signature by the appliance's receipt key (64 hex digits, or
 * 32 bytes: {@link Onboarded.receiptPublicKey}, `partner.toml`'s `receipt_public_key`), then
 * what it says. No connection is made, and it returns at once (not a Promise).
 *
 * Throws {@link ReceiptInvalid} when the receipt is altered, forged or signed by another key;
 * {@link InvalidInput} when it is not a receipt envelope, or the key is not one.
 */
export declare function verifyReceipt(receipt: ReceiptInput, publicKey: string | Uint8Array): ReceiptFacts;

/** Terms asked for with {@link Partner.requestTerms}. */
export interface TermsAsk {
  /** Admission rate, requests per second. */
  ratePerSec: number;
  /** Admission burst. */
  burst: number;
  /** Verifying keys it may register. */
  maxRegisteredKeys: number;
  /** Every budget cap wanted. */
  caps?: ReadonlyArray<{ datasetClass: DatasetClass; window: string; limit: number }>;
}

/** What the appliance said of a terms request. */
export interface TermsAnswer {
  /** The request's number on the appliance (operators decide it by this number). */
  readonly termsRequest: number;
  /** The bundle revision that put the terms in force; `null` while it waits. */
  readonly revision: number | null;
  /** Whether it waits for an operator's approval. */
  readonly waiting: boolean;
  /** What happened, in words. */
  readonly detail: string;
}

/** Where onboarding stands. */
export interface Checklist {
  /** `onboarded`, `keys`, `terms`, `sandbox`, `first-verdict`, in order. */
  readonly steps: ReadonlyArray<{ readonly name: string; readonly done: boolean; readonly detail: string }>;
  /** Whether every step is done. */
  readonly complete: boolean;
  /** Once complete: the checklist signed by the appliance (a DSSE envelope's JSON text). */
  readonly envelope: string | null;
}

/**
 * Checks a signed checklist offline with the appliance's receipt key (64 hex digits) and
 * returns what it says. Throws {@link ReceiptInvalid} when it is altered.
 */
export declare function verifyChecklist(envelope: string, publicKey: string): Record<string, unknown>;

/**
 * A sandbox submission's receipt named for {@link Partner.evidencePreview}: its `ledgerSeq`,
 * or the {@link Verdict} or {@link ReceiptFacts} that carries it.
 */
export type SandboxReceipt = number | Verdict | ReceiptFacts;

/** An evidence bundle, checked against the appliance's receipt key: what it holds. */
export declare class EvidenceSummary {
  private constructor();
  /** The tenant whose evidence it is. */
  readonly tenant: string;
  /** Its receipts' ledger sequence numbers. */
  readonly receipts: ReadonlyArray<number>;
  /** Whether it is a preview over sandbox submissions rather than a period's every receipt. */
  readonly preview: boolean;
  /** Budget units charged over its receipts, from its budget statements (`budgets.json`). */
  readonly charged: number;
  /**
   * The size of the log checkpoint its inclusion proofs lead to; `null` when the appliance
   * keeps no transparency log.
   */
  readonly logTreeSize: number | null;
  /** Receipts not yet under a log checkpoint when it was made: ask again later for their proofs. */
  readonly notYetLogged: ReadonlyArray<number>;
  /** The appliance key that signed its manifest. */
  readonly applianceKeyId: string;
  /**
   * Every file, by its path inside the bundle (`manifest.dsse.json`, `budgets.json`,
   * `receipts/...`, `log/...`).
   */
  readonly files: ReadonlyArray<string>;
}

/**
 * Checks an evidence bundle's folder offline, as an auditor does (`partner evidence verify`):
 * the manifest's signature by the appliance's receipt key (64 hex digits or 32 bytes), then
 * every file against the manifest. No connection is made, and it returns at once (not a
 * Promise).
 *
 * Throws {@link ReceiptInvalid} when a file was altered, removed or added, or the manifest is
 * not signed by this key (the message names every problem); {@link InvalidInput} when `dir` is
 * not a folder or the key is not one.
 */
export declare function verifyEvidence(dir: string, publicKey: string | Uint8Array): EvidenceSummary;

/** The purpose of sandbox submissions (the evidence preview): charged to the sandbox allowance, never the budget. */
export declare const SANDBOX_PURPOSE: 'sandbox';

/** What every error class takes besides its message. */
export interface TrustFabricErrorOptions {
  /** The failure's kind; default the class's. */
  kind?: string;
  /** Milliseconds the appliance asked to wait. */
  retryAfterMs?: number | null;
  /** What caused it. */
  cause?: unknown;
}

/**
 * A request, a connection or a local input failed; `kind` says which way, the same word
 * `partner --json` prints and the Python SDK's errors carry.
 */
export declare class TrustFabricError extends Error {
  constructor(message: string, options?: TrustFabricErrorOptions);
  /** The kind of errors of this class. */
  static readonly kind: string;
  /** The stable name of the failure (`"busy"`, `"over-budget"`, ...). */
  readonly kind: string;
  /**
   * Milliseconds the appliance asked to wait before asking again; `null` when asking again
   * would get the same answer.
   */
  readonly retryAfterMs: number | null;
}

/** The tenant's rate or queue is at its limit: wait `retryAfterMs` and ask again. */
export declare class Busy extends TrustFabricError {}
/** The appliance cannot store receipts for a moment; nothing was charged. Retry after `retryAfterMs`. */
export declare class Unavailable extends TrustFabricError {}
/** The receipt's log entry is not under a signed checkpoint yet; retry after `retryAfterMs`. */
export declare class NotInLogYet extends TrustFabricError {}
/** What ran out when a request was refused over budget ({@link OverBudget}'s `reason`). */
export declare const OverBudgetReason: {
  /**
   * The cap itself is spent for its window: wait until it resets (the message says when), or
   * ask for more as the message says. Another appliance would answer the same.
   */
  readonly CAP: 'cap';
  /**
   * This appliance's share of the cap, leased from its fleet, is spent, or the fleet's
   * database cannot be reached to lease more: the cap itself may still have room. Retry after
   * a short wait, or on another appliance of the fleet.
   */
  readonly FLEET_SHARE: 'fleet-share';
};
/** One of {@link OverBudgetReason}'s values: `'cap'` or `'fleet-share'`. */
export type OverBudgetReason = (typeof OverBudgetReason)[keyof typeof OverBudgetReason];

/**
 * The request would overspend a budget cap: not verified, not charged. The message names the
 * cap, when it frees up and whom to ask; `reason` says whether the cap ran out or only this
 * appliance's share of it in a fleet (then another try may pass).
 */
export declare class OverBudget extends TrustFabricError {
  constructor(message: string, options?: TrustFabricErrorOptions & { reason?: string | null });
  /** What ran out; `OverBudgetReason.CAP` when the appliance did not say. */
  readonly reason: OverBudgetReason;
}
/**
 * The policy bundle in force does not allow this tenant, purpose, class or kind; the message
 * names the revision and the rules.
 */
export declare class Denied extends TrustFabricError {}
/** The same class as {@link Denied}: the appliance's policy denials all have the kind `denied`. */
export declare const DeniedByPolicy: typeof Denied;
/** The proof names a verifying key this tenant has not registered: register it first. */
export declare class UnknownKey extends TrustFabricError {}
/**
 * The appliance refused the verifying key (not canonical, off the curve, too many inputs, or
 * the key quota is full).
 */
export declare class KeyRefused extends TrustFabricError {}
/** The appliance could not read the request; the message names the field. */
export declare class Malformed extends TrustFabricError {}
/**
 * A local input is not usable (a file, JSON that is no snarkjs proof, bad hex, a bad tenant
 * name), or the identity's files could not be written; nothing was sent, except when
 * onboarding had succeeded (the message then says where the key is). Kind `local`.
 */
export declare class InvalidInput extends TrustFabricError {}
/** The appliance speaks another protocol version: use a matching SDK. */
export declare class UnsupportedVersion extends TrustFabricError {}
/** The appliance is stopping; retry when it is back. */
export declare class ShuttingDown extends TrustFabricError {}
/** The appliance failed internally; nothing was charged. Retry; tell the operator if it persists. */
export declare class InternalError extends TrustFabricError {}
/** The appliance keeps no transparency log, or cannot read it now. */
export declare class LogUnavailable extends TrustFabricError {}
/** The appliance refused this client's certificate. */
export declare class CertificateRefused extends TrustFabricError {}
/**
 * What answered is not the appliance the CA (or the invite) names, or its certificate is not
 * for the name connected to.
 */
export declare class ServerNotTrusted extends TrustFabricError {}
/** The policy bundle in force no longer lists this tenant: ask the operator. */
export declare class TenantRemoved extends TrustFabricError {}
/** Too many onboarding attempts from this address; the message says when to try again. */
export declare class RateLimited extends TrustFabricError {}
/** Nothing answered at the address, or the name does not resolve. Kind `connect`. */
export declare class ConnectionFailed extends TrustFabricError {}
/** The connection ended (or was closed); the request may or may not have been answered. */
export declare class ConnectionLost extends TrustFabricError {}
/** No answer within the timeout. */
export declare class Timeout extends TrustFabricError {}
/** The appliance answered something this client does not expect, or does not take onboarding. Kind `protocol`. */
export declare class ProtocolError extends TrustFabricError {}
/** A receipt does not check out under the key given: altered, forged, or another appliance's. */
export declare class ReceiptInvalid extends TrustFabricError {}

/** Why an invite was refused, by name. */
export type OnboardingRefusal =
  | 'unknown'
  | 'used'
  | 'expired'
  | 'revoked'
  | 'wrong-tenant'
  | 'tenant-exists'
  | 'bad-request'
  | 'no-bundle'
  | 'refused';

/**
 * The appliance refused the invite; `reason` says why. Nothing was created and the key made
 * for it is gone.
 */
export declare class OnboardingRefused extends TrustFabricError {
  constructor(message: string, options?: TrustFabricErrorOptions & { reason?: string | null });
  /** Why, by name (`"used"`, `"expired"`, ...); a newer appliance may say others. */
  readonly reason: OnboardingRefusal | (string & {});
}

/**
 * The error for a failure of `kind` (the word `partner --json` prints); a kind this version
 * does not know is a plain {@link TrustFabricError} carrying it.
 */
export declare function fromKind(
  kind: string,
  message: string,
  retryAfterMs?: number | null,
  reason?: string | null,
): TrustFabricError;

/**
 * The typed error for what the native addon threw or rejected with; anything else is
 * returned as it is.
 */
export declare function fromNative(error: unknown): unknown;
