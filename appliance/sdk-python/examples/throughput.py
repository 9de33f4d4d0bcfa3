#!/usr/bin/env python3
"""The Python SDK's throughput against a live appliance: BLS signatures submitted at a fixed
rate (open loop: request k is due at start + k/rate whatever happened to earlier ones, and its
latency runs from when it was due, as bench-rig measures), for a warm-up and then a measured
window. Prints the rate achieved, answers and refusals by kind, latency percentiles, and,
with --appliance-pid on the appliance's host, the appliance's CPU per 1,000 answers (the
figure bench-rig reports as cpu_seconds_per_1k), and this process's own CPU.

    python throughput.py --state-dir DIR [--rps 800] [--duration 20] [--warmup 5] \\
        [--vectors DIR] [--purpose bench] [--class P2] [--connections 1] [--retries 0] \\
        [--appliance-pid PID] [--json]

--state-dir is a folder with a partner.toml (an appliance's state directory: the demo
tenant; or one onboarding wrote). The statements are the valid single signatures among the
Ethereum BLS test vectors (`verify_valid_case_*.json` in --vectors, default
../shared/testdata/eth-bls12-381-tests/verify beside the Trust Fabric checkout), sent in
turn. Run it with a Python that has the trust_fabric wheel installed. The same load and the
same output as the Node SDK's appliance/sdk-node/examples/throughput.js. Exit 0 when every
request was answered with a valid verdict, 1 otherwise.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set

import trust_fabric as tf


def main() -> int:
    options = _arguments()
    try:
        statements = read_vectors(options.vectors)
    except ValueError as error:
        print(f"throughput.py: {error}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(measure(options, statements))
    except tf.TrustFabricError as error:
        print(f"failed ({error.kind}): {error}", file=sys.stderr)
        return 1


async def measure(options: argparse.Namespace, statements: List[Dict[str, bytes]]) -> int:
    """Connects, runs the load, prints what the window saw; the exit status."""
    partners = []
    try:
        for _ in range(options.connections):
            partners.append(await tf.Partner.connect(options.state_dir,
                                                     retries=options.retries))
        window = await run(options, partners, statements)
        report(options, window)
        return 0 if window.answered == window.due and window.invalid == 0 else 1
    finally:
        await asyncio.gather(*(partner.close() for partner in partners))


class Window:
    """What the measured window saw."""

    def __init__(self) -> None:
        self.due = 0
        self.answered = 0
        self.invalid = 0
        self.refused: Dict[str, int] = {}
        #: Seconds from each answered request's due time to its answer.
        self.latencies: List[float] = []
        #: CPU seconds over the window: the appliance's (None without its pid) and ours.
        self.appliance_cpu: Optional[float] = None
        self.client_cpu: Optional[float] = None


async def run(options: argparse.Namespace, partners: List[tf.Partner],
              statements: List[Dict[str, bytes]]) -> Window:
    """Sends at the rate for the warm-up and the measured window; what the window saw."""
    interval = 1 / options.rps
    warmup_end = options.warmup
    end = warmup_end + options.duration
    window = Window()
    in_flight: Set["asyncio.Task[tf.Verdict]"] = set()
    cpu = None
    start = time.perf_counter()
    sent = 0

    def send(k: int, due: float) -> None:
        statement = statements[k % len(statements)]
        partner = partners[k % len(partners)]
        counted = due >= warmup_end
        if counted:
            window.due += 1
        request = asyncio.ensure_future(partner.submit_bls(
            public_keys=statement["public_key"], messages=statement["message"],
            signature=statement["signature"], purpose=options.purpose,
            dataset_class=options.dataset_class))

        def answered(request: "asyncio.Task[tf.Verdict]") -> None:
            in_flight.discard(request)
            if request.cancelled():  # the run was interrupted
                return
            if not counted:
                request.exception()  # retrieved, so asyncio does not log it
                return
            error = request.exception()
            if error is None:
                window.latencies.append(time.perf_counter() - start - due)
                window.answered += 1
                if not request.result().valid:
                    window.invalid += 1
                return
            kind = (error.kind if isinstance(error, tf.TrustFabricError)
                    else f"{type(error).__name__}: {error}")
            window.refused[kind] = window.refused.get(kind, 0) + 1

        request.add_done_callback(answered)
        in_flight.add(request)

    # Each turn sends every request due by now, then sleeps until the next is due.
    while True:
        now = time.perf_counter() - start
        if cpu is None and now >= warmup_end:
            cpu = cpu_now(options.appliance_pid)
        while sent * interval <= now and sent * interval < end:
            send(sent, sent * interval)
            sent += 1
        if sent * interval >= end:
            break
        await asyncio.sleep(max(0.0, sent * interval - (time.perf_counter() - start)))
    await asyncio.gather(*in_flight, return_exceptions=True)
    cpu_end = cpu_now(options.appliance_pid)
    if cpu is not None:
        if cpu[0] is not None and cpu_end[0] is not None:
            window.appliance_cpu = cpu_end[0] - cpu[0]
        window.client_cpu = cpu_end[1] - cpu[1]
    return window


def report(options: argparse.Namespace, window: Window) -> None:
    ordered = sorted(window.latencies)

    def pick(q: float) -> Optional[float]:
        if not ordered:
            return None
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000

    per_1k = 1000 / max(window.answered, 1)
    summary = {
        "target_rps": options.rps,
        "seconds": options.duration,
        "connections": options.connections,
        "due": window.due,
        "answered": window.answered,
        "invalid": window.invalid,
        "refused": window.refused,
        "answered_rps": window.answered / options.duration,
        "latency_ms": {"p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99),
                       "p999": pick(0.999), "max": pick(1)},
        "appliance_cpu_seconds_per_1k": (None if window.appliance_cpu is None
                                         else window.appliance_cpu * per_1k),
        "client_cpu_seconds_per_1k": (None if window.client_cpu is None
                                      else window.client_cpu * per_1k),
    }
    if options.json:
        print(json.dumps(summary))
        return

    def ms(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:.2f}"

    print(f"Python SDK, BLS single signatures at {options.rps} req/s for {options.duration} s "
          f"(after {options.warmup} s of warm-up), {options.connections} connection(s)")
    print(f"  due {summary['due']}, answered {summary['answered']} "
          f"({summary['answered_rps']:.1f} req/s), invalid {summary['invalid']}, "
          f"refused {json.dumps(window.refused)}")
    latency = summary["latency_ms"]
    print(f"  latency from the due time: p50 {ms(latency['p50'])} ms, p90 {ms(latency['p90'])} ms, "
          f"p99 {ms(latency['p99'])} ms, p99.9 {ms(latency['p999'])} ms, "
          f"max {ms(latency['max'])} ms")
    if summary["client_cpu_seconds_per_1k"] is not None:
        appliance = summary["appliance_cpu_seconds_per_1k"]
        print("  CPU per 1k answered: appliance "
              + ("not measured (--appliance-pid)" if appliance is None else f"{appliance:.3f} s")
              + f", this client {summary['client_cpu_seconds_per_1k']:.3f} s")


def read_vectors(folder: Path) -> List[Dict[str, bytes]]:
    """The valid single-signature vectors in `folder`: public key, message, signature."""
    try:
        names = sorted(p.name for p in folder.iterdir()
                       if p.name.startswith("verify_valid_case_") and p.name.endswith(".json"))
    except OSError as error:
        raise ValueError(f"--vectors {folder}: {error}") from error
    if not names:
        raise ValueError(f"--vectors {folder}: no verify_valid_case_*.json there")
    statements = []
    for name in names:
        given = json.loads((folder / name).read_text(encoding="utf-8"))["input"]
        statements.append({
            "public_key": bytes.fromhex(given["pubkey"].removeprefix("0x")),
            "message": bytes.fromhex(given["message"].removeprefix("0x")),
            "signature": bytes.fromhex(given["signature"].removeprefix("0x")),
        })
    return statements


def cpu_now(pid: Optional[int]) -> "tuple[Optional[float], float]":
    """CPU seconds used so far: the appliance's (from /proc, when its pid is given) and this
    process's, every thread of it (the SDK's I/O thread included)."""
    appliance = None
    if pid:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split(" ")
        # utime and stime, fields 14 and 15 of stat(5), in clock ticks.
        appliance = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return appliance, time.process_time()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    default_vectors = (Path(__file__).resolve().parents[4]
                       / "shared/testdata/eth-bls12-381-tests/verify")
    parser.add_argument("--state-dir", required=True, type=Path,
                        help="a folder with a partner.toml")
    parser.add_argument("--rps", type=_number, default=800, help="requests a second (800)")
    parser.add_argument("--duration", type=_number, default=20,
                        help="seconds measured, after the warm-up (20)")
    parser.add_argument("--warmup", type=_number, default=5, help="seconds of warm-up (5)")
    parser.add_argument("--vectors", type=Path, default=default_vectors,
                        help="the eth-bls12-381 verify folder")
    parser.add_argument("--purpose", default="bench", help="the purpose (bench)")
    parser.add_argument("--class", dest="dataset_class", default="P2",
                        help="the dataset class (P2)")
    parser.add_argument("--connections", type=int, default=1,
                        help="connections, requests spread across them in turn (1)")
    parser.add_argument("--retries", type=int, default=0,
                        help="times the SDK asks again while the appliance says busy (0)")
    parser.add_argument("--appliance-pid", type=int,
                        help="the appliance's process id, for its CPU per 1k")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    if not (options.rps > 0 and options.duration > 0 and options.connections >= 1):
        parser.error("--rps, --duration and --connections must be positive")
    if options.warmup < 0 or options.retries < 0:
        parser.error("--warmup and --retries must not be negative")
    return options


def _number(text: str) -> float:
    """A finite number, not negative; whole numbers stay integers (as JSON prints them)."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text}: expected a number")
    return int(value) if value.is_integer() else value


if __name__ == "__main__":
    sys.exit(main())
