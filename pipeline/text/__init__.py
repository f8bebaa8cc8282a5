"""Pure text logic (no Beam): unit-tested alone, shared with the trainer and the benchmarks."""
