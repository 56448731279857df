"""Measurements the gateway process takes itself (the rest of ``/metrics`` is read from the
database at scrape time, so that every API process reports the same counts)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

__all__ = ["PIPELINE_LATENCY", "REGISTRY"]

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's own metrics; ``api`` adds the database-derived ones when scraped."""

PIPELINE_LATENCY = Histogram(
    "shailoo_pipeline_latency_seconds",
    "From a message's first part being stored to the message being parsed and committed.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
    registry=REGISTRY,
)
