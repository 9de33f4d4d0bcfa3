"""The Python SDK against a live appliance that tests/sdk_python.rs starts, with the wheel
appliance/sdk-python/build-wheel installed: onboard with an invite, register a snarkjs key, submit
valid and invalid proofs from files and from parsed objects, verify the receipts offline,
the wizard's steps (sandbox, terms, checklist, the evidence preview), and the typed errors a
partner acts on.

The Rust test passes, in the environment: TF_SDK_INVITE (an invite for `pilot-*`: purpose
kyc, class P1, a P1 cap of 100000 a day), TF_SDK_CONNECT (`localhost:PORT`), TF_SDK_SCRATCH
(a folder to write into) and TF_SDK_FIXTURES (tests/fixtures/groth16/bn128). Run it with
`cargo test -p appliance --test sdk_python`.
"""

import asyncio
import base64
import json
import os
from pathlib import Path

import pytest

import trust_fabric as tf

TENANT = "pilot-python"


def _environment(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests with "
                    "`cargo test -p appliance --test sdk_python`, which starts the appliance")
    return value


@pytest.fixture(scope="module")
def live():
    """The appliance's address, the invite, the folders, and the tenant onboarded once."""
    invite = _environment("TF_SDK_INVITE")
    connect = _environment("TF_SDK_CONNECT")
    scratch = Path(_environment("TF_SDK_SCRATCH"))
    fixtures = Path(_environment("TF_SDK_FIXTURES"))
    onboarded = asyncio.run(tf.onboard(invite, connect=connect, tenant=TENANT,
                                       out=scratch / TENANT))
    return {"invite": invite, "connect": connect, "scratch": scratch, "fixtures": fixtures,
            "onboarded": onboarded}


def _submit_and_collect(live, proof, public):
    """Registers the fixtures' key and submits `proof` and `public`; returns the verdict."""
    fixtures = live["fixtures"]

    async def run():
        async with tf.Partner.connect(live["onboarded"].dir) as partner:
            key_id = await partner.register_key(fixtures / "verification_key.json")
            return await partner.submit_groth16(key_id=key_id, proof=proof, public=public,
                                                purpose="kyc", dataset_class="P1")

    return asyncio.run(run())


def test_onboarding_writes_an_identity_that_connects(live):
    me = live["onboarded"]
    assert me.tenant == TENANT
    assert me.revision >= 2
    assert me.dir == live["scratch"] / TENANT
    for path in (me.key, me.certificate, me.ca, me.config):
        assert path.is_file(), path
    assert me.key.stat().st_mode & 0o077 == 0, "the private key is its owner's alone"
    assert len(bytes.fromhex(me.receipt_public_key)) == 32
    assert me.log_key, "the appliance keeps a transparency log"

    async def run():
        partner = await tf.Partner.connect(me.dir)
        try:
            return partner.receipt_public_key
        finally:
            await partner.close()

    assert asyncio.run(run()) == me.receipt_public_key


def test_a_valid_proof_from_files_and_from_parsed_objects_is_valid_with_a_genuine_receipt(live):
    fixtures = live["fixtures"]
    from_files = _submit_and_collect(live, fixtures / "proof_0.json",
                                     str(fixtures / "public_0.json"))
    parsed = _submit_and_collect(
        live, json.loads((fixtures / "proof_0.json").read_text()),
        json.loads((fixtures / "public_0.json").read_text()))
    for verdict in (from_files, parsed):
        assert verdict.verdict == "valid" and verdict.valid, verdict
        assert verdict.reason == ""
        facts = tf.verify_receipt(verdict.receipt, live["onboarded"].receipt_public_key)
        assert (facts.tenant, facts.verdict, facts.purpose, facts.dataset_class) == (
            TENANT, "valid", "kyc", "P1")
        assert facts.request_id == verdict.request_id
        assert facts.statement_digest == verdict.statement_digest
        assert facts.kind == "groth16-bn254"
    # The same statement, however it was given.
    assert from_files.statement_digest == parsed.statement_digest
    # A receipt saved to a file, or as its envelope, checks the same.
    saved = from_files.save_receipt(live["scratch"] / "receipt.json")
    key = live["onboarded"].receipt_public_key
    assert tf.verify_receipt(saved, key) == tf.verify_receipt(from_files, key)
    assert tf.verify_receipt(from_files.receipt_envelope(), bytes.fromhex(key)).verdict == "valid"


def test_an_altered_public_input_is_an_invalid_verdict_with_a_genuine_receipt(live):
    fixtures = live["fixtures"]
    public = json.loads((fixtures / "public_0.json").read_text())
    public[0] = str(int(public[0]) + 1)
    verdict = _submit_and_collect(live, (fixtures / "proof_0.json").read_text(),
                                  json.dumps(public))
    assert verdict.verdict == "invalid" and not verdict.valid, verdict
    assert verdict.reason
    facts = tf.verify_receipt(verdict.receipt, live["onboarded"].receipt_public_key)
    assert (facts.verdict, facts.tenant) == ("invalid", TENANT)


def test_a_tampered_receipt_or_another_key_is_receipt_invalid(live):
    fixtures = live["fixtures"]
    verdict = _submit_and_collect(live, fixtures / "proof_0.json", fixtures / "public_0.json")
    envelope = verdict.receipt_envelope()
    payload = base64.b64decode(envelope["payload"]).replace(b'"valid"', b'"invalid"')
    envelope["payload"] = base64.b64encode(payload).decode()
    key = live["onboarded"].receipt_public_key
    with pytest.raises(tf.ReceiptInvalid) as altered:
        tf.verify_receipt(envelope, key)
    assert altered.value.kind == "receipt-invalid"
    assert isinstance(altered.value, tf.TrustFabricError)
    with pytest.raises(tf.ReceiptInvalid):
        tf.verify_receipt(verdict.receipt, "00" * 32)
    with pytest.raises(tf.InvalidInput):
        tf.verify_receipt({"not": "an envelope"}, key)


def test_a_used_invite_is_refused_with_its_reason_and_leaves_nothing_behind(live):
    out = live["scratch"] / "pilot-again"
    with pytest.raises(tf.OnboardingRefused) as refused:
        asyncio.run(tf.onboard(live["invite"], connect=live["connect"], tenant="pilot-again",
                               out=out, retries=0))
    assert refused.value.reason == "used"
    assert refused.value.kind == "onboarding-refused"
    assert refused.value.retry_after_ms is None
    assert "used" in str(refused.value)
    assert not out.exists(), "the key made for it is removed"


def test_budgets_show_the_invites_cap(live):
    async def run():
        async with tf.Partner.connect(live["onboarded"].dir) as partner:
            return await partner.budgets()

    budgets = asyncio.run(run())
    assert budgets and all(b.tenant == TENANT for b in budgets), budgets
    # The invite's cap, beside any the policy bundle sets for every tenant.
    cap = [b for b in budgets
           if (b.dataset_class, b.window, b.limit) == ("P1", "day", 100000)]
    assert len(cap) == 1, budgets
    assert cap[0].used + cap[0].reserved + cap[0].remaining == cap[0].limit
    assert cap[0].granted == cap[0].limit, "an appliance alone may spend all of the cap"
    assert cap[0].resets_at and cap[0].resets_at_unix_ms


def test_the_wizard_steps_sandbox_terms_evidence_and_a_signed_checklist(live):
    fixtures = live["fixtures"]
    me = live["onboarded"]
    evidence = live["scratch"] / "evidence-preview"
    refused = live["scratch"] / "evidence-refused"

    async def run():
        async with tf.Partner.connect(me.dir) as partner:
            key_id = await partner.register_key(fixtures / "verification_key.json")
            verdicts = []
            for purpose in (tf.SANDBOX_PURPOSE, "kyc"):
                verdicts.append(await partner.submit_groth16(
                    key_id=key_id, proof=fixtures / "proof_0.json",
                    public=fixtures / "public_0.json", purpose=purpose, dataset_class="P1"))
            sandbox, first = (tf.verify_receipt(v, me.receipt_public_key) for v in verdicts)
            # Named by its verdict; the preview is checked against the appliance's key here.
            preview = await partner.evidence_preview([verdicts[0]], out=evidence)
            # Into a folder that is not empty: made, then refused here before writing.
            with pytest.raises(tf.InvalidInput):
                await partner.evidence_preview(sandbox.ledger_seq, out=evidence)
            # A real submission's receipt, by its ledger_seq: the appliance refuses it.
            with pytest.raises(tf.Denied):
                await partner.evidence_preview([first.ledger_seq], out=refused)
            within = await partner.request_terms(
                rate_per_sec=50, burst=50, max_registered_keys=8,
                caps=[tf.Cap(dataset_class="P1", window="day", limit=90000)])
            above = await partner.request_terms(
                rate_per_sec=5000, burst=50, max_registered_keys=8,
                caps=[tf.Cap(dataset_class="P1", window="day", limit=90000)])
            checklist = await partner.checklist(sandbox_receipt=sandbox.ledger_seq,
                                                first_receipt=first.ledger_seq)
            budgets = await partner.budgets()
            return sandbox, preview, within, above, checklist, budgets

    sandbox, preview, within, above, checklist, budgets = asyncio.run(run())
    assert sandbox.purpose == tf.SANDBOX_PURPOSE and sandbox.verdict == "valid"
    # The evidence preview, as an auditor would get it. Its log proofs may lag the receipt by
    # a checkpoint interval, so `not_yet_logged` is not asserted on.
    assert isinstance(preview, tf.EvidenceSummary)
    assert preview.preview and preview.tenant == TENANT, preview
    assert sandbox.ledger_seq in preview.receipts, preview
    assert preview.charged == sandbox.budget_charged, preview
    for name in ("manifest.dsse.json", "budgets.json", f"receipts/{sandbox.ledger_seq:012d}.json"):
        assert name in preview.files and (evidence / name).is_file(), (name, preview.files)
    assert not refused.exists(), "nothing is written for a refused preview"
    verified = tf.verify_evidence(evidence, me.receipt_public_key)
    assert (verified.tenant, verified.receipts, verified.preview, verified.charged) == (
        TENANT, preview.receipts, True, preview.charged)
    assert sorted(verified.files) == sorted(preview.files)
    # Paid less than the receipts say: the manifest no longer vouches for the file.
    statements = json.loads((evidence / "budgets.json").read_text())
    statements["lines"][0]["charged"] += 1
    (evidence / "budgets.json").write_text(json.dumps(statements))
    with pytest.raises(tf.ReceiptInvalid) as altered:
        tf.verify_evidence(evidence, me.receipt_public_key)
    assert "budgets.json" in str(altered.value), altered.value
    with pytest.raises(tf.InvalidInput):
        tf.verify_evidence(live["scratch"] / "no-such-folder", me.receipt_public_key)
    assert not within.waiting and within.revision, within
    assert above.waiting and above.revision is None and "rate 5000" in above.detail, above
    assert [s.name for s in checklist.steps] == [
        "onboarded", "keys", "terms", "sandbox", "first-verdict"]
    assert checklist.complete, checklist.steps
    said = tf.verify_checklist(checklist.envelope, me.receipt_public_key)
    assert said["tenant"] == TENANT
    # The sandbox allowance paid for the sandbox proof, shown beside the caps.
    allowance = [b for b in budgets if b.purpose == tf.SANDBOX_PURPOSE]
    assert allowance and all(b.used + b.reserved <= b.limit for b in allowance), budgets
    altered = json.loads(checklist.envelope)
    sig = altered["signatures"][0]["sig"]
    altered["signatures"][0]["sig"] = ("B" if sig[10] == "A" else "A").join(
        (sig[:10], sig[11:]))
    with pytest.raises(tf.ReceiptInvalid):
        tf.verify_checklist(json.dumps(altered), me.receipt_public_key)


def test_refusals_are_typed(live):
    fixtures = live["fixtures"]

    async def run():
        async with tf.Partner.connect(live["onboarded"].dir) as partner:
            with pytest.raises(tf.UnknownKey) as unknown:
                await partner.submit_groth16(key_id="ab" * 32, proof=fixtures / "proof_0.json",
                                             public=fixtures / "public_0.json",
                                             purpose="kyc", dataset_class="P1")
            assert unknown.value.retry_after_ms is None
            key_id = await partner.register_key(
                json.loads((fixtures / "verification_key.json").read_text()))
            # A purpose the invite's terms do not allow.
            with pytest.raises(tf.Denied):
                await partner.submit_groth16(key_id=key_id, proof=fixtures / "proof_0.json",
                                             public=fixtures / "public_0.json",
                                             purpose="marketing", dataset_class="P1")
            # Refused locally, before anything is sent.
            with pytest.raises(tf.InvalidInput):
                await partner.submit_groth16(key_id=key_id, proof={"pi_a": []},
                                             public="[]", purpose="kyc", dataset_class="P1")
            with pytest.raises(tf.InvalidInput):
                await partner.submit_groth16(key_id=key_id, proof=fixtures / "proof_0.json",
                                             public=fixtures / "public_0.json",
                                             purpose="kyc", dataset_class="P7")
            with pytest.raises(tf.InvalidInput):
                await partner.submit_bls(public_keys=b"\x01" * 47, messages=b"m",
                                         signature=b"\x02" * 96, purpose="kyc",
                                         dataset_class="P1")

    asyncio.run(run())

    # A folder with no partner.toml: nothing to connect as, said before any connection.
    async def nowhere():
        with pytest.raises(tf.InvalidInput):
            await tf.Partner.connect(live["scratch"] / "no-such-folder")

    asyncio.run(nowhere())


def test_requests_on_one_connection_run_concurrently(live):
    fixtures = live["fixtures"]

    async def run():
        async with tf.Partner.connect(live["onboarded"].dir) as partner:
            key_id = await partner.register_key(fixtures / "verification_key.json")
            return await asyncio.gather(*(
                partner.submit_groth16(key_id=key_id, proof=fixtures / f"proof_{n}.json",
                                       public=fixtures / f"public_{n}.json", purpose="kyc",
                                       dataset_class="P1")
                for n in range(4)))

    verdicts = asyncio.run(run())
    assert [v.verdict for v in verdicts] == ["valid"] * 4
    assert len({v.request_id for v in verdicts}) == 4


def test_every_kind_the_rust_sdk_names_has_its_exception():
    kinds = {
        "busy": tf.Busy, "unavailable": tf.Unavailable, "not-in-log-yet": tf.NotInLogYet,
        "over-budget": tf.OverBudget, "denied": tf.Denied, "unknown-key": tf.UnknownKey,
        "key-refused": tf.KeyRefused, "malformed": tf.Malformed, "local": tf.InvalidInput,
        "unsupported-version": tf.UnsupportedVersion, "shutting-down": tf.ShuttingDown,
        "internal": tf.InternalError, "log-unavailable": tf.LogUnavailable,
        "certificate-refused": tf.CertificateRefused,
        "server-not-trusted": tf.ServerNotTrusted, "tenant-removed": tf.TenantRemoved,
        "onboarding-refused": tf.OnboardingRefused, "rate-limited": tf.RateLimited,
        "connect": tf.ConnectionFailed, "connection-lost": tf.ConnectionLost,
        "timeout": tf.Timeout, "protocol": tf.ProtocolError,
        "receipt-invalid": tf.ReceiptInvalid,
    }
    for kind, cls in kinds.items():
        error = tf.errors.from_kind(kind, "what to do", 250 if kind == "busy" else None)
        assert type(error) is cls and error.kind == kind and str(error) == "what to do"
        assert isinstance(error, tf.TrustFabricError)
    assert tf.errors.from_kind("busy", "wait", 250).retry_after_ms == 250
    assert tf.errors.from_kind("onboarding-refused", "no", None, "expired").reason == "expired"
    share = tf.errors.from_kind("over-budget", "share spent", None, "fleet-share")
    assert type(share) is tf.OverBudget and share.kind == "over-budget"
    assert share.reason is tf.OverBudgetReason.FLEET_SHARE and share.retry_after_ms is None
    assert tf.errors.from_kind("over-budget", "cap spent", None, "cap").reason \
        is tf.OverBudgetReason.CAP
    # Not said (or a name this version does not know): the cap's, which asks nothing of a retry.
    assert tf.errors.from_kind("over-budget", "spent").reason is tf.OverBudgetReason.CAP
    assert [r.value for r in tf.OverBudgetReason] == ["cap", "fleet-share"]
    newer = tf.errors.from_kind("something-new", "a kind from a newer appliance")
    assert type(newer) is tf.TrustFabricError and newer.kind == "something-new"
    assert tf.DeniedByPolicy is tf.Denied
    assert isinstance(tf.errors.from_kind("local", "x"), ValueError)
    assert isinstance(tf.errors.from_kind("timeout", "x"), TimeoutError)
