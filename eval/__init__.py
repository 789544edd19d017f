"""Offline evaluation of briefing QA: gold sets, metrics, runners, harness and reports.

Kept import-light on purpose: ``eval.metrics`` must stay usable without matplotlib or rich,
so import ``eval.harness`` / ``eval.report`` explicitly when you need them.
"""
