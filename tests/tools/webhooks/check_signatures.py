"""Checks webhook deliveries the appliance made, independently of its own code.

v1 (HMAC-SHA256) with the Standard Webhooks reference library (`standardwebhooks` from PyPI);
v1a (Ed25519) written here from the specification's text with the `cryptography` package:
the signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the header holds
space-separated `scheme,base64` signatures, and a `whpk_` key is the base64 of the raw
32-byte Ed25519 public key.

Input (stdin): a JSON list of deliveries, each {"headers": {name: value}, "body_b64": "..."}.
Arguments: --secret whsec_... and/or --public-key whpk_... (each at most once).
Prints one line per delivery and exits 0 only if every delivery verifies under every key
given (a scheme the header lacks counts as a failure).
"""

import argparse
import base64
import json
import sys
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


# The tolerance the spec's libraries use for the timestamp, seconds either way.
TOLERANCE_S = 5 * 60


def verify_v1a(public_key: str, headers: dict, body: bytes) -> None:
    if not public_key.startswith("whpk_"):
        raise ValueError("a v1a public key starts with whpk_")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[len("whpk_"):]))
    headers = {k.lower(): v for k, v in headers.items()}
    if abs(time.time() - int(headers["webhook-timestamp"])) > TOLERANCE_S:
        raise ValueError("the timestamp is more than five minutes away from now")
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    for versioned in headers["webhook-signature"].split(" "):
        scheme, _, signature = versioned.partition(",")
        if scheme != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
            return
        except InvalidSignature:
            continue
    raise ValueError("no v1a signature verifies")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret")
    parser.add_argument("--public-key")
    args = parser.parse_args()
    if not args.secret and not args.public_key:
        parser.error("give --secret, --public-key or both")
    deliveries = json.load(sys.stdin)
    failed = 0
    for delivery in deliveries:
        headers = {k.lower(): v for k, v in delivery["headers"].items()}
        body = base64.b64decode(delivery["body_b64"])
        problems = []
        if args.secret:
            try:
                Webhook(args.secret).verify(body, headers)
            except WebhookVerificationError as error:
                problems.append(f"v1: {error}")
        if args.public_key:
            try:
                verify_v1a(args.public_key, headers, body)
            except (ValueError, KeyError) as error:
                problems.append(f"v1a: {error}")
        name = headers.get("webhook-id", "?")
        if problems:
            failed += 1
            print(f"{name}: NOT verified: {'; '.join(problems)}")
        else:
            print(f"{name}: verified")
    print(f"{len(deliveries) - failed} of {len(deliveries)} verified")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
