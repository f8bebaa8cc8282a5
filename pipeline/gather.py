"""A CombineFn that gathers its inputs into one list and turns that list into its output once:
for small global results built whole on one worker (sorted hash arrays, per-scope sets)."""

import apache_beam as beam


class Gather(beam.CombineFn):
    """Subclasses define extract_output(list of every input)."""

    def create_accumulator(self) -> list:
        return []

    def add_input(self, acc: list, item) -> list:
        acc.append(item)
        return acc

    def merge_accumulators(self, accumulators) -> list:
        return [item for acc in accumulators for item in acc]
