'use strict';
/**
 * The errors the Trust Fabric SDK throws, one class per kind of failure a partner acts on:
 * the same table as the Python SDK's `trust_fabric.errors`.
 *
 * Every error is a {@link TrustFabricError} with
 *
 * - `kind`: the stable name of the failure, the word `partner --json` prints and the Rust
 *   SDK's `PartnerError::kind()` returns (`"busy"`, `"over-budget"`, ...);
 * - `retryAfterMs`: how long the appliance asked to wait before asking again, or `null` when
 *   asking again would not change the answer;
 * - `message`: what happened and what to do, in words.
 *
 * The SDK already waits and asks again when the appliance says busy (the `retries` option of
 * `onboard()` and `Partner.connect()`); a {@link Busy} reaching you means the retries ran out.
 *
 * @module
 */

/** A request, a connection or a local input failed; `kind` says which way. */
class TrustFabricError extends Error {
  /**
   * @param {string} message what happened and what to do, in words
   * @param {{kind?: string, retryAfterMs?: number | null, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    /** The stable name of the failure (`"busy"`, `"over-budget"`, ...). */
    this.kind = options.kind ?? new.target.kind ?? 'unknown';
    /**
     * Milliseconds the appliance asked to wait before asking again; `null` when asking again
     * would get the same answer.
     */
    this.retryAfterMs = options.retryAfterMs ?? null;
  }

  /** The class's name, as stack traces and `util.inspect` show it. */
  get name() {
    return this.constructor.name;
  }
}
TrustFabricError.kind = 'unknown';

/**
 * Makes an error class of `kind`, with its documentation as written beside it.
 * @param {string} name
 * @param {string} kind
 * @returns {typeof TrustFabricError}
 */
function kindOf(name, kind) {
  const made = { [name]: class extends TrustFabricError {} }[name];
  made.kind = kind;
  return made;
}

/** The tenant's rate or queue is at its limit: wait `retryAfterMs` and ask again. */
const Busy = kindOf('Busy', 'busy');
/** The appliance cannot store receipts for a moment; nothing was charged. Retry after `retryAfterMs`. */
const Unavailable = kindOf('Unavailable', 'unavailable');
/** The receipt's log entry is not under a signed checkpoint yet; retry after `retryAfterMs`. */
const NotInLogYet = kindOf('NotInLogYet', 'not-in-log-yet');
/**
 * What ran out when a request was refused over budget ({@link OverBudget}'s `reason`).
 * @readonly
 * @enum {string}
 */
const OverBudgetReason = Object.freeze({
  /**
   * The cap itself is spent for its window: wait until it resets (the message says when), or
   * ask for more as the message says. Another appliance would answer the same.
   */
  CAP: 'cap',
  /**
   * This appliance's share of the cap, leased from its fleet, is spent, or the fleet's
   * database cannot be reached to lease more: the cap itself may still have room. Retry after
   * a short wait, or on another appliance of the fleet.
   */
  FLEET_SHARE: 'fleet-share',
});
/**
 * The policy bundle in force does not allow this tenant, purpose, class or kind; the message
 * names the revision and the rules.
 */
const Denied = kindOf('Denied', 'denied');
/** The same class: the appliance's policy denials all have the kind `denied`. */
const DeniedByPolicy = Denied;
/** The proof names a verifying key this tenant has not registered: register it first. */
const UnknownKey = kindOf('UnknownKey', 'unknown-key');
/**
 * The appliance refused the verifying key (not canonical, off the curve, too many inputs, or
 * the key quota is full).
 */
const KeyRefused = kindOf('KeyRefused', 'key-refused');
/** The appliance could not read the request; the message names the field. */
const Malformed = kindOf('Malformed', 'malformed');
/**
 * A local input is not usable (a file, JSON that is no snarkjs proof, bad hex, a bad tenant
 * name), or the identity's files could not be written; nothing was sent, except when
 * onboarding had succeeded (the message then says where the key is).
 */
const InvalidInput = kindOf('InvalidInput', 'local');
/** The appliance speaks another protocol version: use a matching SDK. */
const UnsupportedVersion = kindOf('UnsupportedVersion', 'unsupported-version');
/** The appliance is stopping; retry when it is back. */
const ShuttingDown = kindOf('ShuttingDown', 'shutting-down');
/** The appliance failed internally; nothing was charged. Retry; tell the operator if it persists. */
const InternalError = kindOf('InternalError', 'internal');
/** The appliance keeps no transparency log, or cannot read it now. */
const LogUnavailable = kindOf('LogUnavailable', 'log-unavailable');
/** The appliance refused this client's certificate. */
const CertificateRefused = kindOf('CertificateRefused', 'certificate-refused');
/**
 * What answered is not the appliance the CA (or the invite) names, or its certificate is not
 * for the name connected to.
 */
const ServerNotTrusted = kindOf('ServerNotTrusted', 'server-not-trusted');
/** The policy bundle in force no longer lists this tenant: ask the operator. */
const TenantRemoved = kindOf('TenantRemoved', 'tenant-removed');
/** Too many onboarding attempts from this address; the message says when to try again. */
const RateLimited = kindOf('RateLimited', 'rate-limited');
/** Nothing answered at the address, or the name does not resolve. */
const ConnectionFailed = kindOf('ConnectionFailed', 'connect');
/** The connection ended (or was closed); the request may or may not have been answered. */
const ConnectionLost = kindOf('ConnectionLost', 'connection-lost');
/** No answer within the timeout. */
const Timeout = kindOf('Timeout', 'timeout');
/** The appliance answered something this client does not expect, or does not take onboarding. */
const ProtocolError = kindOf('ProtocolError', 'protocol');
/** A receipt does not check out under the key given: altered, forged, or another appliance's. */
const ReceiptInvalid = kindOf('ReceiptInvalid', 'receipt-invalid');

/**
 * The appliance refused the invite; `reason` says why by name: `unknown`, `used`, `expired`,
 * `revoked`, `wrong-tenant`, `tenant-exists`, `bad-request`, `no-bundle` or `refused`. Nothing
 * was created and the key made for it is gone.
 */
class OnboardingRefused extends TrustFabricError {
  /**
   * @param {string} message
   * @param {{kind?: string, retryAfterMs?: number | null, reason?: string | null, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options);
    /** Why, by name (`"used"`, `"expired"`, ...). */
    this.reason = options.reason || 'refused';
  }
}
OnboardingRefused.kind = 'onboarding-refused';

/**
 * The request would overspend a budget cap: not verified, not charged. The message names the
 * cap, when it frees up and whom to ask; `reason` says whether the cap ran out
 * (`OverBudgetReason.CAP`) or only this appliance's share of it in a fleet
 * (`OverBudgetReason.FLEET_SHARE`: another try may pass).
 */
class OverBudget extends TrustFabricError {
  /**
   * @param {string} message
   * @param {{kind?: string, retryAfterMs?: number | null, reason?: string | null, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options);
    /**
     * What ran out, one of {@link OverBudgetReason}; `CAP` when the appliance did not say (a
     * name this version does not know reads as the cap's, the answer that asks nothing of a
     * retry).
     */
    this.reason = Object.values(OverBudgetReason).includes(options.reason)
      ? options.reason : OverBudgetReason.CAP;
  }
}
OverBudget.kind = 'over-budget';

/** The one table from the Rust SDK's `PartnerError::kind()` to the class thrown. */
const BY_KIND = new Map(
  [
    Busy, Unavailable, NotInLogYet, OverBudget, Denied, UnknownKey, KeyRefused, Malformed,
    InvalidInput, UnsupportedVersion, ShuttingDown, InternalError, LogUnavailable,
    CertificateRefused, ServerNotTrusted, TenantRemoved, OnboardingRefused, RateLimited,
    ConnectionFailed, ConnectionLost, Timeout, ProtocolError, ReceiptInvalid,
  ].map((cls) => [cls.kind, cls]),
);

/**
 * The error for a failure of `kind`. A kind this version does not know is a plain
 * {@link TrustFabricError} carrying it.
 * @param {string} kind
 * @param {string} message
 * @param {number | null} [retryAfterMs]
 * @param {string | null} [reason]
 * @returns {TrustFabricError}
 */
function fromKind(kind, message, retryAfterMs = null, reason = null) {
  const cls = BY_KIND.get(kind) ?? TrustFabricError;
  return new cls(message, { kind, retryAfterMs, reason });
}

/**
 * The typed error for what the native addon threw or rejected with (its message is the JSON
 * of `{kind, message, retry_after_ms, reason}`); anything else is returned as it is.
 * @param {unknown} error
 * @returns {unknown}
 */
function fromNative(error) {
  if (!(error instanceof Error) || error instanceof TrustFabricError) {
    return error;
  }
  let said;
  try {
    said = JSON.parse(error.message);
  } catch {
    return error;
  }
  if (said === null || typeof said !== 'object' || typeof said.kind !== 'string') {
    return error;
  }
  return fromKind(said.kind, String(said.message ?? ''), said.retry_after_ms ?? null,
    said.reason ?? null);
}

module.exports = {
  TrustFabricError,
  Busy,
  Unavailable,
  NotInLogYet,
  OverBudget,
  OverBudgetReason,
  Denied,
  DeniedByPolicy,
  UnknownKey,
  KeyRefused,
  Malformed,
  InvalidInput,
  UnsupportedVersion,
  ShuttingDown,
  InternalError,
  LogUnavailable,
  CertificateRefused,
  ServerNotTrusted,
  TenantRemoved,
  OnboardingRefused,
  RateLimited,
  ConnectionFailed,
  ConnectionLost,
  Timeout,
  ProtocolError,
  ReceiptInvalid,
  fromKind,
  fromNative,
};
