"""Helpers of the fake Connect server (spec/support/fake_connect.py, the
entry point): model loading and routing, patterns, validation, the wire
format, synthesized output, SigV4 checks and state."""
