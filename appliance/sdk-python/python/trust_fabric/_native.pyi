"""Type hints for the native module (Rust, over tf-partner's `sdk` facade). Use the typed
wrappers in `trust_fabric` instead: these take plain strings and bytes and hand results over
as JSON text (the field names `partner --json` prints)."""

from typing import Awaitable, List, Optional

def onboard(
    invite: str,
    connect: str,
    tenant: str,
    out: Optional[str],
    server_name: Optional[str],
    retries: int,
    timeout: float,
) -> Awaitable[str]: ...
def verify_receipt(envelope_json: str, public_key: str) -> str: ...
def verify_checklist(envelope_json: str, public_key: str) -> str: ...
def stop() -> None: ...

class Client:
    @staticmethod
    def connect_dir(state_dir: str, retries: int, timeout: float) -> Awaitable[Client]: ...
    @staticmethod
    def connect_files(
        address: str,
        ca: str,
        cert: str,
        key: str,
        server_name: Optional[str],
        retries: int,
        timeout: float,
    ) -> Awaitable[Client]: ...
    @property
    def receipt_public_key(self) -> Optional[str]: ...
    def register_key_json(self, vkey: str) -> Awaitable[str]: ...
    def submit_groth16_json(
        self, key_id: str, proof: str, public: str, purpose: str, dataset_class: str
    ) -> Awaitable[str]: ...
    def submit_bls(
        self,
        public_keys: List[bytes],
        messages: List[bytes],
        signature: bytes,
        purpose: str,
        dataset_class: str,
    ) -> Awaitable[str]: ...
    def budgets(self) -> Awaitable[str]: ...
    def request_terms(self, terms: str) -> Awaitable[str]: ...
    def checklist(self, sandbox_receipt: int, first_receipt: int) -> Awaitable[str]: ...
    def close(self) -> Awaitable[None]: ...
