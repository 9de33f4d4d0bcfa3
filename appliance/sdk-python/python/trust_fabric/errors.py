"""The errors the Trust Fabric SDK raises, one class per kind of failure a partner acts on.

Every error is a :class:`TrustFabricError` with

* ``kind``: the stable name of the failure, the same word ``partner --json`` prints and the
  Rust SDK's ``PartnerError::kind()`` returns (``"busy"``, ``"over-budget"``, ...);
* ``retry_after_ms``: how long the appliance asked to wait before asking again, or ``None``
  when asking again would not change the answer;
* ``str(error)``: what happened and what to do, in words.

The SDK already waits and asks again when the appliance says busy (see ``retries`` on
:func:`trust_fabric.onboard` and :class:`trust_fabric.Partner`); a :class:`Busy` reaching you
means the retries ran out.
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

__all__ = [
    "TrustFabricError",
    "Busy",
    "Unavailable",
    "NotInLogYet",
    "OverBudget",
    "OverBudgetReason",
    "Denied",
    "DeniedByPolicy",
    "UnknownKey",
    "KeyRefused",
    "Malformed",
    "InvalidInput",
    "UnsupportedVersion",
    "ShuttingDown",
    "InternalError",
    "LogUnavailable",
    "CertificateRefused",
    "ServerNotTrusted",
    "TenantRemoved",
    "OnboardingRefused",
    "RateLimited",
    "ConnectionFailed",
    "ConnectionLost",
    "Timeout",
    "ProtocolError",
    "ReceiptInvalid",
    "from_kind",
]


class TrustFabricError(Exception):
    """A request, a connection or a local input failed; ``kind`` says which way."""

    kind: str = "unknown"

    def __init__(self, message: str, *, kind: Optional[str] = None,
                 retry_after_ms: Optional[int] = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        #: Milliseconds the appliance asked to wait before asking again; ``None`` when
        #: asking again would get the same answer.
        self.retry_after_ms: Optional[int] = retry_after_ms

    @property
    def message(self) -> str:
        """What happened and what to do, in words."""
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        extra = "" if self.retry_after_ms is None else f", retry_after_ms={self.retry_after_ms}"
        return f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r}{extra})"


class Busy(TrustFabricError):
    """The tenant's rate or queue is at its limit: wait ``retry_after_ms`` and ask again."""

    kind = "busy"


class Unavailable(TrustFabricError):
    """The appliance cannot store receipts for a moment; nothing was charged. Retry after
    ``retry_after_ms``."""

    kind = "unavailable"


class NotInLogYet(TrustFabricError):
    """The receipt's log entry is not under a signed checkpoint yet; retry after
    ``retry_after_ms``."""

    kind = "not-in-log-yet"


class OverBudgetReason(str, Enum):
    """What ran out when a request was refused over budget (``OverBudget.reason``)."""

    #: The cap itself is spent for its window: wait until it resets (the message says when),
    #: or ask for more as the message says. Another appliance would answer the same.
    CAP = "cap"
    #: This appliance's share of the cap, leased from its fleet, is spent, or the fleet's
    #: database cannot be reached to lease more: the cap itself may still have room. Retry
    #: after a short wait, or on another appliance of the fleet.
    FLEET_SHARE = "fleet-share"


class OverBudget(TrustFabricError):
    """The request would overspend a budget cap: not verified, not charged. The message
    names the cap, when it frees up and whom to ask; ``reason`` says whether the cap ran out
    (:attr:`OverBudgetReason.CAP`) or only this appliance's share of it in a fleet
    (:attr:`OverBudgetReason.FLEET_SHARE`: another try may pass)."""

    kind = "over-budget"

    def __init__(self, message: str, *, kind: Optional[str] = None,
                 retry_after_ms: Optional[int] = None, reason: Optional[str] = None) -> None:
        super().__init__(message, kind=kind, retry_after_ms=retry_after_ms)
        #: What ran out; :attr:`OverBudgetReason.CAP` when the appliance did not say.
        self.reason: OverBudgetReason = _over_budget_reason(reason)

    def __repr__(self) -> str:
        return f"OverBudget(reason={self.reason.value!r}, message={self.message!r})"


def _over_budget_reason(name: Optional[str]) -> OverBudgetReason:
    """The reason named ``name``; a name this version does not know reads as the cap's, the
    answer that asks nothing of a retry."""
    try:
        return OverBudgetReason(name)
    except ValueError:
        return OverBudgetReason.CAP


class Denied(TrustFabricError):
    """The policy bundle in force does not allow this tenant, purpose, class or kind; the
    message names the revision and the rules."""

    kind = "denied"


#: The same class: the appliance's policy denials all have the kind ``denied``.
DeniedByPolicy = Denied


class UnknownKey(TrustFabricError):
    """The proof names a verifying key this tenant has not registered: register it first."""

    kind = "unknown-key"


class KeyRefused(TrustFabricError):
    """The appliance refused the verifying key (not canonical, off the curve, too many
    inputs, or the key quota is full)."""

    kind = "key-refused"


class Malformed(TrustFabricError):
    """The appliance could not read the request; the message names the field."""

    kind = "malformed"


class InvalidInput(TrustFabricError, ValueError):
    """A local input is not usable (a file, JSON that is no snarkjs proof, bad hex, a bad
    tenant name), or the identity's files could not be written; nothing was sent, except
    when onboarding had succeeded (the message then says where the key is)."""

    kind = "local"


class UnsupportedVersion(TrustFabricError):
    """The appliance speaks another protocol version: use a matching SDK."""

    kind = "unsupported-version"


class ShuttingDown(TrustFabricError):
    """The appliance is stopping; retry when it is back."""

    kind = "shutting-down"


class InternalError(TrustFabricError):
    """The appliance failed internally; nothing was charged. Retry; tell the operator if it
    persists."""

    kind = "internal"


class LogUnavailable(TrustFabricError):
    """The appliance keeps no transparency log, or cannot read it now."""

    kind = "log-unavailable"


class CertificateRefused(TrustFabricError):
    """The appliance refused this client's certificate."""

    kind = "certificate-refused"


class ServerNotTrusted(TrustFabricError):
    """What answered is not the appliance the CA (or the invite) names, or its certificate
    is not for the name connected to."""

    kind = "server-not-trusted"


class TenantRemoved(TrustFabricError):
    """The policy bundle in force no longer lists this tenant: ask the operator."""

    kind = "tenant-removed"


class OnboardingRefused(TrustFabricError):
    """The appliance refused the invite; ``reason`` says why by name: ``unknown``, ``used``,
    ``expired``, ``revoked``, ``wrong-tenant``, ``tenant-exists``, ``bad-request``,
    ``no-bundle`` or ``refused``. Nothing was created and the key made for it is gone."""

    kind = "onboarding-refused"

    def __init__(self, message: str, *, kind: Optional[str] = None,
                 retry_after_ms: Optional[int] = None, reason: Optional[str] = None) -> None:
        super().__init__(message, kind=kind, retry_after_ms=retry_after_ms)
        #: Why, by name (``"used"``, ``"expired"``, ...).
        self.reason: str = reason or "refused"

    def __repr__(self) -> str:
        return f"OnboardingRefused(reason={self.reason!r}, message={self.message!r})"


class RateLimited(TrustFabricError):
    """Too many onboarding attempts from this address; the message says when to try again."""

    kind = "rate-limited"


class ConnectionFailed(TrustFabricError, ConnectionError):
    """Nothing answered at the address, or the name does not resolve."""

    kind = "connect"


class ConnectionLost(TrustFabricError, ConnectionError):
    """The connection ended (or was closed); the request may or may not have been
    answered."""

    kind = "connection-lost"


class Timeout(TrustFabricError, TimeoutError):
    """No answer within the timeout."""

    kind = "timeout"


class ProtocolError(TrustFabricError):
    """The appliance answered something this client does not expect, or does not take
    onboarding."""

    kind = "protocol"


class ReceiptInvalid(TrustFabricError):
    """A receipt does not check out under the key given: altered, forged, or another
    appliance's."""

    kind = "receipt-invalid"


# The one table from the Rust SDK's `PartnerError::kind()` to the class raised.
_BY_KIND = {
    cls.kind: cls
    for cls in (
        Busy, Unavailable, NotInLogYet, OverBudget, Denied, UnknownKey, KeyRefused, Malformed,
        InvalidInput, UnsupportedVersion, ShuttingDown, InternalError, LogUnavailable,
        CertificateRefused, ServerNotTrusted, TenantRemoved, OnboardingRefused, RateLimited,
        ConnectionFailed, ConnectionLost, Timeout, ProtocolError, ReceiptInvalid,
    )
}


def from_kind(kind: str, message: str, retry_after_ms: Optional[int] = None,
              reason: Optional[str] = None) -> TrustFabricError:
    """The exception for an error of ``kind`` (the native module raises what this returns).
    A kind this version does not know is a plain :class:`TrustFabricError`."""
    cls = _BY_KIND.get(kind, TrustFabricError)
    if cls in (OnboardingRefused, OverBudget):
        return cls(message, retry_after_ms=retry_after_ms, reason=reason)
    return cls(message, kind=kind, retry_after_ms=retry_after_ms)
