"""Parser throughput: messages per second for parse + validate, on one core.

A realistic election-day mix is generated against examples/forms/presidential.yaml (60% clean,
25% messy: lower case, Cyrillic lookalikes, punctuation, O for 0, comments; 15% invalid), then
parsed repeatedly. The baseline, timed in the same run on the same messages, is the least any
parser must do: a single regex pass splitting each message into letters and digits. Their ratio
is what the grammar, normalisation and validation cost, independent of the machine's speed.

Target (parser issue): at least 30,000 messages/s. Run: ``make bench`` or
``python bench/parser.py [--messages N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and this very file would shadow
# the ``parser`` package it measures.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

from gateway.simulation import ElectionDay  # noqa: E402
from parser import Deployment, load_forms, parse_message  # noqa: E402

FORMS = HERE.parent / "examples" / "forms" / "presidential.yaml"
TARGET_PER_S = 30_000


def election_day_mix(deployment: Deployment, count: int, seed: int = 2027) -> list[str]:
    """``count`` messages: 60% clean, 25% messy, 15% invalid (``gateway.simulation``)."""
    rng = random.Random(seed)
    day = ElectionDay(deployment, rng)
    messages = []
    for _ in range(count):
        form = rng.choice(deployment.forms)
        text = day.report(form, str(rng.randint(100, 999_999)))
        roll = rng.random()
        if roll >= 0.85:
            text = day.broken(text)
        elif roll >= 0.60:
            text = day.messy(text)
        messages.append(text)
    return messages


_BASELINE_RE = re.compile(r"[^\W\d_]+|\d+")


def best_rate(run: Callable[[], object], count: int, rounds: int) -> float:
    """Messages per second of the fastest of ``rounds`` runs."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--messages", type=int, default=50_000)
    arguments.add_argument("--rounds", type=int, default=5)
    options = arguments.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    deployment = load_forms(FORMS.read_text(encoding="utf-8"))
    messages = election_day_mix(deployment, options.messages)
    results = [parse_message(text, deployment) for text in messages]  # warm caches
    accepted = sum(result.ok for result in results) / len(results)

    parser_rate = best_rate(
        lambda: [parse_message(t, deployment) for t in messages], len(messages), options.rounds
    )
    baseline_rate = best_rate(
        lambda: [_BASELINE_RE.findall(t) for t in messages], len(messages), options.rounds
    )

    print(f"messages: {len(messages):,} (accepted {accepted:.0%}), best of {options.rounds} rounds")
    print(
        f"parse + validate   {parser_rate:>12,.0f} messages/s   "
        f"({1e6 / parser_rate:.1f} us/message)"
    )
    print(f"baseline regex     {baseline_rate:>12,.0f} messages/s")
    print(f"ratio              {baseline_rate / parser_rate:>12.1f}x the baseline's cost")
    verdict = "meets" if parser_rate >= TARGET_PER_S else "MISSES"
    print(f"target             {TARGET_PER_S:>12,} messages/s: {verdict}")


if __name__ == "__main__":
    main()
