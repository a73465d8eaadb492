"""Declared production chains: inputs query, algorithm, output collection, cadence; idempotent."""
