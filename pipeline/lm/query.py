"""KenLM's own `query` tool, as the reference our scoring is checked against.

`query` prints its summary numbers in shortest round-trip form, so they are exact doubles."""

import subprocess


def query_perplexity(query_bin: str, model: str, lines: list[str]) -> float:
    """'Perplexity including OOVs' of `query` over the given (normalized) lines."""
    result = subprocess.run(
        [query_bin, "-v", "summary", model], input="".join(line + "\n" for line in lines), capture_output=True, text=True, check=True
    )
    for line in result.stdout.splitlines():
        if line.startswith("Perplexity including OOVs:"):
            return float(line.split("\t")[1])
    raise RuntimeError(f"query printed no perplexity: {result.stdout[-500:]!r} {result.stderr[-500:]!r}")
