#!/usr/bin/env python3
"""From an operator's invite to the first valid verdict, timed: onboard (the key pair made
here), register a snarkjs verification key, submit a proof, verify the receipt offline.
Prints each step's wall time and the total.

    python first_verdict.py --invite tfi1.12.0f3a... --connect appliance.example.com:4433 \\
        --tenant pilot-initech --vkey verification_key.json --proof proof.json \\
        --public public.json [--out DIR] [--purpose kyc] [--class P1]

Exit 0 when the proof is valid and its receipt genuine, 1 otherwise (an error prints its
kind and what to do).
"""

import time

STARTED = time.perf_counter()  # noqa: E402 -- the clock starts before the SDK is loaded

import argparse  # noqa: E402
import asyncio  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import trust_fabric as tf  # noqa: E402


def main() -> int:
    args = _arguments()
    try:
        valid = asyncio.run(first_verdict(args, STARTED))
    except tf.TrustFabricError as error:
        print(f"failed ({error.kind}): {error}", file=sys.stderr)
        return 1
    print(f"total: {time.perf_counter() - STARTED:.3f} s from the invite to a verified receipt")
    return 0 if valid else 1


async def first_verdict(args: argparse.Namespace, started: float) -> bool:
    step = _Steps(started)
    step.done("loaded the SDK")
    me = await tf.onboard(args.invite, connect=args.connect, tenant=args.tenant, out=args.out)
    step.done(f"onboarded as {me.tenant} (key pair made here, bundle revision {me.revision})")
    async with tf.Partner.connect(me.dir) as partner:
        step.done("connected with the new identity")
        key_id = await partner.register_key(args.vkey)
        step.done(f"registered verifying key {key_id[:16]}...")
        verdict = await partner.submit_groth16(key_id=key_id, proof=args.proof,
                                               public=args.public, purpose=args.purpose,
                                               dataset_class=args.dataset_class)
        step.done(f"verdict: {verdict.verdict} (request {verdict.request_id})")
    step.done("closed the connection")
    facts = tf.verify_receipt(verdict.receipt, me.receipt_public_key)
    step.done(f"receipt verified offline: {facts.verdict}, ledger entry {facts.ledger_seq}")
    return verdict.valid and facts.verdict == "valid"


class _Steps:
    """Prints each step with its own wall time and the time since the start."""

    def __init__(self, started: float) -> None:
        self.started = self.last = started

    def done(self, what: str) -> None:
        now = time.perf_counter()
        print(f"{now - self.last:8.3f} s  (at {now - self.started:7.3f} s)  {what}", flush=True)
        self.last = now


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invite", required=True, help="the invite, tfi1.ID.SECRET.CA")
    parser.add_argument("--connect", required=True, help="the appliance, HOST:PORT")
    parser.add_argument("--tenant", required=True, help="the tenant to become")
    parser.add_argument("--out", type=Path, help="the identity's folder (./partner-TENANT)")
    parser.add_argument("--vkey", required=True, type=Path, help="verification_key.json")
    parser.add_argument("--proof", required=True, type=Path, help="proof.json")
    parser.add_argument("--public", required=True, type=Path, help="public.json")
    parser.add_argument("--purpose", default="kyc", help="the purpose (default kyc)")
    parser.add_argument("--class", dest="dataset_class", default="P1",
                        help="the dataset class, P0, P1 or P2 (default P1)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
