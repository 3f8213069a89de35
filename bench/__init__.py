"""Benchmarks for Flask-Mailproof: run by hand (``make bench``), never part of the tests."""
