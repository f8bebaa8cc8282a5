"""Heuristic quality rules as pure functions: signals from text, rules that compare them."""
