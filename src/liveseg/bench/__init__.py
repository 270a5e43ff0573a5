"""Benchmarks: the bundle's speed in Python runtimes and in a real browser, against the pipelines people use today.

`liveseg bench python` and `liveseg bench browser` write JSON with every raw figure; `report` turns those into a
console table, PNG charts and BENCHMARKS.md. Speed targets live here, never in timed unit tests.
"""
