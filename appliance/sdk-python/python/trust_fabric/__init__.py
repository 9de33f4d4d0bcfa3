"""Trust Fabric partner SDK for Python.

Reach a Trust Fabric appliance over QUIC to have Groth16 proofs (snarkjs) and BLS signatures
verified, and get signed receipts that check offline. The protocol, snarkjs parsing, TLS and
retries are the Rust SDK's (``tf_partner``), compiled into this package; this module gives
them asyncio, types and docstrings.

From an operator's invite to a verified receipt::

    import asyncio
    import trust_fabric as tf

    async def main():
        me = await tf.onboard("tfi1.12.0f3a...", connect="appliance.example.com:4433",
                              tenant="pilot-initech")
        async with tf.Partner.connect(me.dir) as partner:
            key_id = await partner.register_key("verification_key.json")
            verdict = await partner.submit_groth16(
                key_id=key_id, proof="proof.json", public="public.json",
                purpose="kyc", dataset_class="P1")
        facts = tf.verify_receipt(verdict.receipt, me.receipt_public_key)
        print(verdict.verdict, facts.ledger_seq)

    asyncio.run(main())

Failures raise :class:`TrustFabricError` subclasses (see :mod:`trust_fabric.errors`).
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any, Awaitable, Callable, Dict, Generator, List, Mapping, Optional, Sequence, Type, TypeVar,
    Union,
)

from . import _native
from .errors import (
    Busy, CertificateRefused, ConnectionFailed, ConnectionLost, Denied, DeniedByPolicy,
    InternalError, InvalidInput, KeyRefused, LogUnavailable, Malformed, NotInLogYet,
    OnboardingRefused, OverBudget, OverBudgetReason, ProtocolError, RateLimited, ReceiptInvalid,
    ServerNotTrusted, ShuttingDown, TenantRemoved, Timeout, TrustFabricError, Unavailable,
    UnknownKey, UnsupportedVersion,
)

__all__ = [
    "onboard", "Partner", "verify_receipt", "verify_checklist", "verify_evidence",
    "SANDBOX_PURPOSE", "Onboarded", "Verdict", "Budget", "ReceiptFacts", "Cap", "TermsAnswer",
    "ChecklistStep", "Checklist", "EvidenceSummary", "SandboxReceipt",
    "TrustFabricError", "Busy", "Unavailable", "NotInLogYet", "OverBudget", "OverBudgetReason",
    "Denied",
    "DeniedByPolicy", "UnknownKey", "KeyRefused", "Malformed", "InvalidInput",
    "UnsupportedVersion", "ShuttingDown", "InternalError", "LogUnavailable",
    "CertificateRefused", "ServerNotTrusted", "TenantRemoved", "OnboardingRefused",
    "RateLimited", "ConnectionFailed", "ConnectionLost", "Timeout", "ProtocolError",
    "ReceiptInvalid",
]

__version__ = "0.1.0"

# The SDK's I/O thread stops before the interpreter finalises (a request settled during
# finalisation would bring the process down); requests still running then are dropped.
atexit.register(_native.stop)

#: A file by path, a parsed JSON object, or JSON text.
JsonInput = Union[str, "os.PathLike[str]", Mapping[str, Any], Sequence[Any], bytes]
#: Bytes, or the same in hex (``0x`` allowed).
BytesInput = Union[bytes, bytearray, memoryview, str]
#: A folder path.
PathInput = Union[str, "os.PathLike[str]"]

#: Times to ask again while the appliance says busy (or cannot store receipts for a moment),
#: each after the wait it asks for, 30 s in all at most: as ``partner --retries``.
DEFAULT_RETRIES = 4
#: Seconds to wait for the handshake and for each answer.
DEFAULT_TIMEOUT = 30.0
#: The purpose of sandbox submissions (the evidence preview): verified and receipted like any
#: other, charged to the partner's sandbox allowance, never to its budget.
SANDBOX_PURPOSE = "sandbox"


@dataclass(frozen=True)
class Onboarded:
    """A partner onboarded into a folder: the identity ``Partner.connect(dir)`` reads."""

    #: The tenant now in force.
    tenant: str
    #: The policy bundle revision that put it in force.
    revision: int
    #: The folder holding the key, the certificates and ``partner.toml``.
    dir: Path
    #: Its ``partner.toml``.
    config: Path
    #: The tenant's client certificate (PEM).
    certificate: Path
    #: The appliance's CA certificate (PEM).
    ca: Path
    #: The private key made on this machine (PEM, readable by its owner only).
    key: Path
    #: The key receipts are signed with, 64 hex digits: pass it to :func:`verify_receipt`.
    receipt_public_key: str
    #: The transparency log's verifier key, or ``None`` when the appliance keeps no log.
    log_key: Optional[str]


@dataclass(frozen=True)
class Verdict:
    """The appliance's verdict on one statement, and its signed receipt."""

    #: ``"valid"``, ``"invalid"`` or ``"rejected"``.
    verdict: str
    #: Why, for ``invalid`` and ``rejected``; empty for ``valid``.
    reason: str
    #: The request id the appliance answered.
    request_id: int
    #: What was verified, digested (hex).
    statement_digest: str
    #: The receipt: its DSSE envelope's JSON text, as ``partner submit --receipt`` writes it.
    receipt: str = field(repr=False)

    @property
    def valid(self) -> bool:
        """Whether the statement verified."""
        return self.verdict == "valid"

    def receipt_envelope(self) -> Dict[str, Any]:
        """The receipt's DSSE envelope as a dict."""
        return json.loads(self.receipt)

    def save_receipt(self, path: PathInput) -> Path:
        """Writes the receipt to ``path`` (what ``partner receipt verify`` reads); returns it."""
        target = Path(path)
        target.write_text(self.receipt, encoding="utf-8")
        return target


@dataclass(frozen=True)
class Budget:
    """One budget cap of the tenant and where it stands."""

    #: The tenant.
    tenant: str
    #: The purpose it limits; ``None`` for a cap across all purposes of its class.
    purpose: Optional[str]
    #: The dataset class it limits: ``"P0"``, ``"P1"`` or ``"P2"``.
    dataset_class: str
    #: Its window: ``hour``, ``day``, ``week``, ``month`` (UTC) or ``rolling Ns``.
    window: str
    #: Units allowed per window.
    limit: int
    #: What the appliance answering may spend of it in the current window: ``limit``, or in
    #: a fleet of appliances its share of the cap (0 until it has leased one).
    granted: int
    #: Charged in the current window (in a fleet, by the appliance answering).
    used: int
    #: Held by requests still being verified.
    reserved: int
    #: Left to spend on the appliance answering: of ``granted``, what is neither used nor
    #: held.
    remaining: int
    #: When it resets (rolling: when enough frees up), RFC 3339; ``None`` when never.
    resets_at: Optional[str]
    #: The same in Unix milliseconds.
    resets_at_unix_ms: Optional[int]


@dataclass(frozen=True)
class ReceiptFacts:
    """What a genuine receipt says (returned only once its signature checked out)."""

    tenant: str
    request_id: int
    #: What was verified, digested (hex).
    statement_digest: str
    #: The statement kind, such as ``groth16-bn254`` or ``bls-single``.
    kind: str
    #: ``"valid"``, ``"invalid"`` or ``"rejected"``.
    verdict: str
    #: Why, for ``invalid`` and ``rejected``.
    reason: Optional[str]
    purpose: str
    dataset_class: str
    #: Budget units charged for the request.
    budget_charged: int
    #: The least budget left after it in the caps that applied; ``None`` when none did.
    budget_remaining: Optional[int]
    #: Its sequence in the appliance's ledger: its index in the transparency log.
    ledger_seq: int
    #: The shard (core) that decided.
    shard: int
    #: When the verdict was reached, RFC 3339 (UTC, microseconds).
    decided_at: str
    decided_at_unix_us: int
    #: The policy bundle revision the request was admitted under.
    bundle_revision: int


@dataclass(frozen=True)
class Cap:
    """A budget cap asked for in :meth:`Partner.request_terms`."""

    #: ``"P0"``, ``"P1"`` or ``"P2"``.
    dataset_class: str
    #: ``"hour"``, ``"day"``, ``"week"``, ``"month"`` or ``"rolling Ns"``.
    window: str
    #: Units of work per window.
    limit: int


@dataclass(frozen=True)
class TermsAnswer:
    """What the appliance said of a terms request."""

    #: The request's number on the appliance (operators decide it by this number).
    terms_request: int
    #: The bundle revision that put the terms in force; ``None`` while it waits.
    revision: Optional[int]
    #: Whether it waits for an operator's approval (it was above the invite's template).
    waiting: bool
    #: What happened, in words.
    detail: str


@dataclass(frozen=True)
class ChecklistStep:
    """One onboarding step."""

    #: ``onboarded``, ``keys``, ``terms``, ``sandbox`` or ``first-verdict``.
    name: str
    done: bool
    #: What shows it done, or what to do.
    detail: str


@dataclass(frozen=True)
class Checklist:
    """Where onboarding stands."""

    steps: List[ChecklistStep]
    #: Whether every step is done.
    complete: bool
    #: Once complete: the checklist signed by the appliance (a DSSE envelope's JSON text).
    envelope: Optional[str]


def verify_checklist(envelope: str, public_key: str) -> Dict[str, Any]:
    """Checks a signed checklist with the appliance's receipt key (hex) and returns what it
    says (``tenant``, ``invite``, ``steps``, ``completed_at``...).

    :raises ReceiptInvalid: it was altered, or signed by another key.
    :raises InvalidInput: it is no checklist envelope, or the key is not one.
    """
    return json.loads(_native.verify_checklist(envelope, public_key))


#: A sandbox submission's receipt named for :meth:`Partner.evidence_preview`: its
#: ``ledger_seq``, or the :class:`Verdict` or :class:`ReceiptFacts` that carries it.
SandboxReceipt = Union[int, Verdict, ReceiptFacts]


@dataclass(frozen=True)
class EvidenceSummary:
    """An evidence bundle, checked against the appliance's receipt key: what it holds."""

    #: The tenant whose evidence it is.
    tenant: str
    #: Its receipts' ledger sequence numbers.
    receipts: List[int]
    #: Whether it is a preview over sandbox submissions rather than a period's every receipt.
    preview: bool
    #: Budget units charged over its receipts, from its budget statements (``budgets.json``).
    charged: int
    #: The size of the log checkpoint its inclusion proofs lead to; ``None`` when the
    #: appliance keeps no transparency log.
    log_tree_size: Optional[int]
    #: Receipts not yet under a log checkpoint when it was made: ask again a few seconds
    #: later for their proofs.
    not_yet_logged: List[int]
    #: The appliance key that signed its manifest.
    appliance_key_id: str
    #: Every file, by its path inside the bundle (``manifest.dsse.json``, ``budgets.json``,
    #: ``receipts/...``, ``log/...``).
    files: List[str]


def verify_evidence(dir: PathInput, public_key: Union[str, bytes]) -> EvidenceSummary:
    """Checks an evidence bundle's folder offline, as an auditor does (``partner evidence
    verify``): the manifest's signature by the appliance's receipt key, then every file
    against the manifest. No connection is made.

    :param dir: the bundle's folder, as :meth:`Partner.evidence_preview` wrote it.
    :param public_key: the receipt key, 64 hex digits (``Onboarded.receipt_public_key``) or
        32 bytes.
    :returns: what the bundle holds.
    :raises ReceiptInvalid: a file was altered, removed or added, or the manifest is not
        signed by this key; the message names every problem.
    :raises InvalidInput: ``dir`` is not a folder, or the key is not one.
    """
    key = public_key.hex() if isinstance(public_key, (bytes, bytearray)) else public_key
    return _record(EvidenceSummary,
                   json.loads(_native.verify_evidence(os.fspath(dir), key)))


async def onboard(invite: str, *, connect: str, tenant: str,
                  out: Optional[PathInput] = None, server_name: Optional[str] = None,
                  retries: int = DEFAULT_RETRIES,
                  timeout: float = DEFAULT_TIMEOUT) -> Onboarded:
    """Becomes a tenant with an operator's invite, as ``partner onboard`` does.

    Makes an ECDSA P-256 key pair on this machine and writes its private key to
    ``out/client.key`` before anything is sent (the private key never leaves the machine);
    connects to ``connect`` (``HOST:PORT``) and goes on only if the appliance presents the
    CA the invite names; sends the invite and a certificate request for the key; writes the
    certificate, the CA and a ``partner.toml`` beside the key.

    :param invite: the invite's text, ``tfi1.ID.SECRET.CA``; it works once.
    :param connect: the appliance's QUIC address, ``HOST:PORT``.
    :param tenant: the name the operator gave, or one under their prefix (1 to 64 of
        a-z, 0-9, ``-`` and ``_``).
    :param out: the folder to write; default ``./partner-<tenant>``. A folder holding an
        identity already is refused, nothing in it overwritten.
    :param server_name: the name the appliance's certificate must carry; default the host
        of ``connect``.
    :param retries: times to ask again while the appliance says busy.
    :param timeout: seconds to wait for the handshake and for the answer.
    :raises OnboardingRefused: the invite is used, expired, revoked, unknown, for another
        tenant, or the tenant exists (``.reason`` says which); the key made is removed.
    :raises RateLimited: too many attempts from this address.
    :raises ServerNotTrusted: what answers is not the appliance the invite names.
    :raises ConnectionFailed: nothing answers at ``connect``.
    :raises InvalidInput: the invite, address, tenant or folder is not usable.
    """
    text = await _native.onboard(
        invite, connect, tenant, None if out is None else os.fspath(out), server_name,
        retries, timeout)
    data = json.loads(text)
    for name in ("dir", "config", "certificate", "ca", "key"):
        data[name] = Path(data[name])
    return _record(Onboarded, data)


class Partner:
    """A connection to an appliance as one tenant.

    Open one with :meth:`Partner.connect` (a folder that onboarding wrote) or
    :meth:`Partner.connect_files`; both can be awaited, or used with ``async with``, which
    closes the connection at the end. Requests on one connection may run concurrently
    (``asyncio.gather``). Each request is asked again, after the wait the appliance asks
    for, while it says busy, as ``retries`` allows; other answers are returned or raised at
    once.
    """

    def __init__(self, native: _native.Client) -> None:
        """Use :meth:`connect` or :meth:`connect_files`."""
        self._native = native

    @classmethod
    def connect(cls, state_dir: PathInput, *, retries: int = DEFAULT_RETRIES,
                timeout: float = DEFAULT_TIMEOUT) -> "Connecting":
        """Connects as the identity in ``state_dir``, a folder with a ``partner.toml`` (as
        :func:`onboard` or ``partner onboard`` wrote it, or an appliance's state directory).

        ``await Partner.connect(dir)``, or ``async with Partner.connect(dir) as partner:``.

        :raises InvalidInput: no readable ``partner.toml``, or a file it names.
        :raises ConnectionFailed: nothing answers at its address.
        :raises ServerNotTrusted: the appliance's certificate is not from the CA given.
        """
        state_dir = os.fspath(state_dir)
        return Connecting(cls._opened(
            lambda: _native.Client.connect_dir(state_dir, retries, timeout)))

    @classmethod
    def connect_files(cls, address: str, *, ca: PathInput, cert: PathInput, key: PathInput,
                      server_name: Optional[str] = None, retries: int = DEFAULT_RETRIES,
                      timeout: float = DEFAULT_TIMEOUT) -> "Connecting":
        """Connects to ``address`` (``HOST:PORT``) with PEM files: the appliance's CA, this
        tenant's client certificate and its private key. ``server_name`` is the name the
        appliance's certificate must carry (default: the host of ``address``).
        """
        files = (os.fspath(ca), os.fspath(cert), os.fspath(key))
        return Connecting(cls._opened(
            lambda: _native.Client.connect_files(address, *files, server_name, retries,
                                                 timeout)))

    @classmethod
    async def _opened(cls, open_native: Callable[[], Awaitable[_native.Client]]) -> "Partner":
        # The native call needs the running loop: made when awaited, not when called.
        return cls(await open_native())

    @property
    def receipt_public_key(self) -> Optional[str]:
        """The appliance's receipt key from ``partner.toml`` (64 hex digits), if it names
        one: what :func:`verify_receipt` checks receipts with."""
        return self._native.receipt_public_key

    async def register_key(self, vkey: JsonInput) -> str:
        """Registers a Groth16 verifying key and returns its key id (64 hex digits).

        :param vkey: snarkjs ``verification_key.json``: a path, the parsed dict, or its JSON
            text (curves ``bn128`` and ``bls12381``). Registering a key again is harmless and
            returns the same id.
        :raises KeyRefused: the appliance refused the key (or the key quota is full).
        :raises InvalidInput: not a snarkjs verification key.
        """
        return await self._native.register_key_json(_json_text(vkey, "verifying key"))

    async def submit_groth16(self, *, key_id: str, proof: JsonInput, public: JsonInput,
                             purpose: str, dataset_class: str) -> Verdict:
        """Submits a Groth16 proof under a registered key and returns the verdict and its
        receipt. An invalid proof is a verdict (``verdict.verdict == "invalid"``), not an
        error.

        :param key_id: the id :meth:`register_key` returned (hex).
        :param proof: snarkjs ``proof.json``: a path, the parsed dict, or JSON text.
        :param public: snarkjs ``public.json``: a path, the parsed list, or JSON text.
        :param purpose: why the data is processed (budgets are kept per purpose).
        :param dataset_class: the data's sensitivity class, ``"P0"``, ``"P1"`` or ``"P2"``.
        :raises UnknownKey: the key is not registered for this tenant.
        :raises OverBudget: the request would overspend a cap (not verified, not charged);
            ``.reason`` says whether the cap or this appliance's fleet share ran out.
        :raises Denied: the policy in force does not allow it.
        :raises Busy: still busy after the retries.
        """
        text = await self._native.submit_groth16_json(
            key_id, _json_text(proof, "proof"), _json_text(public, "public inputs"), purpose,
            dataset_class)
        return _record(Verdict, json.loads(text))

    async def submit_bls(self, *, public_keys: Union[BytesInput, Sequence[BytesInput]],
                         messages: Union[BytesInput, Sequence[BytesInput]],
                         signature: BytesInput, purpose: str,
                         dataset_class: str) -> Verdict:
        """Submits a BLS signature (Ethereum ciphersuite, min-pk) and returns the verdict
        and its receipt. One key and one message is a single signature; several keys and one
        message a fast aggregate; as many messages as keys an aggregate.

        :param public_keys: 48-byte compressed public key(s), as bytes or hex.
        :param messages: the message(s), as bytes or hex.
        :param signature: the 96-byte compressed signature, as bytes or hex.
        :param purpose: why the data is processed.
        :param dataset_class: ``"P0"``, ``"P1"`` or ``"P2"``.
        """
        text = await self._native.submit_bls(
            [_bytes(k, "public key") for k in _many(public_keys)],
            [_bytes(m, "message") for m in _many(messages)],
            _bytes(signature, "signature"), purpose, dataset_class)
        return _record(Verdict, json.loads(text))

    async def budgets(self) -> List[Budget]:
        """The tenant's budget caps and where they stand (empty when it has none)."""
        caps = json.loads(await self._native.budgets())
        return [_record(Budget, dict(cap, dataset_class=cap["class"])) for cap in caps]

    async def request_terms(self, *, rate_per_sec: int, burst: int, max_registered_keys: int,
                            caps: Sequence[Cap] = ()) -> TermsAnswer:
        """Asks for other terms, given in full (a cap left out is removed). Within the
        invite's template they are in force when this returns (``revision``); above it they
        wait for an operator (``waiting``), and ``detail`` says what is above.

        :raises Denied: this tenant was not onboarded with an invite.
        :raises Malformed: the terms would not make a valid bundle (a window that is none).
        """
        asked = {
            "rate_per_sec": rate_per_sec,
            "burst": burst,
            "max_registered_keys": max_registered_keys,
            "caps": [{"class": c.dataset_class, "window": c.window, "limit": c.limit}
                     for c in caps],
        }
        answer = json.loads(await self._native.request_terms(json.dumps(asked)))
        return _record(TermsAnswer, answer)

    async def checklist(self, *, sandbox_receipt: Optional[int] = None,
                        first_receipt: Optional[int] = None) -> Checklist:
        """Where onboarding stands: each step done, or what to do. Name the receipts (their
        ``ledger_seq``, as :func:`verify_receipt` reads it) of a sandbox submission and of a
        first real one; once every step is done the checklist comes signed (``envelope``).

        :raises Denied: this tenant was not onboarded with an invite.
        """
        answer = json.loads(await self._native.checklist(sandbox_receipt or 0,
                                                         first_receipt or 0))
        steps = [_record(ChecklistStep, step) for step in answer["steps"]]
        return Checklist(steps=steps, complete=answer["complete"],
                         envelope=answer.get("envelope"))

    async def evidence_preview(self, receipts: Union[SandboxReceipt, Sequence[SandboxReceipt]],
                               *, out: PathInput) -> EvidenceSummary:
        """The evidence preview, as ``partner evidence preview`` makes it: the bundle an
        auditor would get, over receipts of your sandbox submissions (purpose
        :data:`SANDBOX_PURPOSE`), made and signed by the appliance. It is checked here
        against the appliance's receipt key, then written into ``out``: the receipts, their
        transparency-log proofs, your budget statements (``budgets.json``) and the signed
        manifest (``manifest.dsse.json``). :func:`verify_evidence` checks the folder again,
        offline.

        :param receipts: 1 to 16 receipts of sandbox submissions, each its ``ledger_seq``, its
            :class:`ReceiptFacts`, or the :class:`Verdict` that brought it (its receipt is
            checked with :attr:`receipt_public_key` to read the ``ledger_seq``).
        :param out: the folder to write; it must be new or empty.
        :returns: what the bundle holds. Receipts logged after the last checkpoint are in
            ``not_yet_logged``, with no proofs yet: ask again a few seconds later for them.
        :raises Denied: a receipt is not one of this tenant's sandbox submissions.
        :raises ReceiptInvalid: the bundle does not check out under the receipt key (nothing
            is written), or a verdict's receipt does not.
        :raises InvalidInput: no receipts or more than 16; ``out`` is not empty or cannot be
            written; a verdict given to a connection with no receipt key (name its
            ``ledger_seq`` instead).
        """
        seqs = [self._ledger_seq(receipt) for receipt in _many_receipts(receipts)]
        text = await self._native.evidence_preview(seqs, os.fspath(out))
        return _record(EvidenceSummary, json.loads(text))

    def _ledger_seq(self, receipt: SandboxReceipt) -> int:
        """The ledger sequence number of a receipt named for the evidence preview."""
        if isinstance(receipt, ReceiptFacts):
            return receipt.ledger_seq
        if isinstance(receipt, Verdict):
            # Read from the receipt only once it checks out: the facade's reader, not ours.
            key = self.receipt_public_key
            if key is None:
                raise InvalidInput(
                    "this connection has no receipt key (partner.toml names none) to read a "
                    "verdict's receipt with: name it by verify_receipt(verdict, key).ledger_seq")
            return verify_receipt(receipt, key).ledger_seq
        if isinstance(receipt, int) and not isinstance(receipt, bool):
            if receipt < 0:
                raise InvalidInput(f"receipts: {receipt} is no ledger sequence number")
            return receipt
        raise TypeError("receipts: expected ledger sequence numbers, Verdict or ReceiptFacts, "
                        f"not {type(receipt).__name__}")

    async def close(self) -> None:
        """Closes the connection politely; requests after it raise :class:`ConnectionLost`."""
        await self._native.close()

    async def __aenter__(self) -> "Partner":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class Connecting:
    """A connection being opened: await it for the :class:`Partner`, or use it with
    ``async with`` to close the connection at the end of the block."""

    def __init__(self, opening: Awaitable[Partner]) -> None:
        self._opening = opening
        self._partner: Optional[Partner] = None

    def __await__(self) -> Generator[Any, None, Partner]:
        return self._opening.__await__()

    async def __aenter__(self) -> Partner:
        self._partner = await self._opening
        return self._partner

    async def __aexit__(self, *exc_info: object) -> None:
        if self._partner is not None:
            await self._partner.close()


def verify_receipt(receipt: Union[JsonInput, Verdict],
                   public_key: Union[str, bytes]) -> ReceiptFacts:
    """Checks a receipt offline: its signature by the appliance's receipt key, then what it
    says. No connection is made.

    :param receipt: a :class:`Verdict`, the receipt envelope as a dict, its JSON text, or a
        path to it (as :meth:`Verdict.save_receipt` or ``partner submit --receipt`` wrote).
    :param public_key: the receipt key, 64 hex digits (``Onboarded.receipt_public_key``,
        ``partner.toml``'s ``receipt_public_key``) or 32 bytes.
    :raises ReceiptInvalid: altered, forged, or signed by another key.
    :raises InvalidInput: not a receipt envelope, or not a key.
    """
    text = receipt.receipt if isinstance(receipt, Verdict) else _json_text(receipt, "receipt")
    key = public_key.hex() if isinstance(public_key, (bytes, bytearray)) else public_key
    return _record(ReceiptFacts, json.loads(_native.verify_receipt(text, key)))


_Record = TypeVar("_Record")


def _record(cls: Type[_Record], data: Mapping[str, Any]) -> _Record:
    """A result dataclass from the native layer's JSON, ignoring fields newer than it."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def _json_text(value: Any, what: str) -> str:
    """JSON text from a parsed object, JSON text, or a path to a file."""
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInput(f"{path}: {error}") from error
    raise TypeError(f"{what}: expected a path, a parsed JSON object or JSON text, "
                    f"not {type(value).__name__}")


def _many_receipts(
        value: Union[SandboxReceipt, Sequence[SandboxReceipt]]) -> Sequence[SandboxReceipt]:
    if isinstance(value, (int, Verdict, ReceiptFacts)):
        return [value]
    return list(value)


def _many(value: Union[BytesInput, Sequence[BytesInput]]) -> Sequence[BytesInput]:
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return [value]
    return list(value)


def _bytes(value: BytesInput, what: str) -> bytes:
    if isinstance(value, str):
        text = value.strip()
        try:
            return bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
        except ValueError as error:
            raise InvalidInput(f"{what}: not hex: {error}") from error
    return bytes(value)
