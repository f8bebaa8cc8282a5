"""Connected components of a graph given as an edge PCollection, computed across workers.

Large-star / small-star (Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii 2014, "Connected
Components in MapReduce and Beyond"): each step is one GroupByKey over edges, no worker ever
holds more than one node's neighbourhood, and the alternation converges in O(log^2 n) rounds,
after which every component is a star around its smallest node. A Beam graph cannot loop, so
`max_rounds` rounds are unrolled; rounds after convergence change nothing, and a final check
fails the run (naming dedup.minhash.max_rounds) if the graph is not yet a set of stars. This is
what datatrove and text-dedup do on one machine with a union-find; here it scales with the runner.

Edges are canonical (smaller id, larger id) pairs of document ids; ids compare as strings.
"""

import apache_beam as beam


def _canonical(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _large_star(node_neighbours):
    """Node u, all neighbours N: link every larger neighbour to m = min(N + u)."""
    u, neighbours = node_neighbours
    neighbours = set(neighbours)
    m = min(min(neighbours), u)
    for v in neighbours:
        if v > u:
            yield (m, v)


def _small_star(node_smaller):
    """Node u, its smaller neighbours N: link u and every v in N to m = min(N)."""
    u, smaller = node_smaller
    smaller = set(smaller)
    m = min(smaller)
    for v in smaller | {u}:
        if v != m:
            yield (m, v)


class _Round(beam.PTransform):
    """One large-star and one small-star step: two GroupByKeys. An edge may come out more than
    once (from several nodes); no Distinct between the steps, since each step reads a node's
    neighbours as a set, so a repeated edge changes nothing (one Distinct after the last round)."""

    def expand(self, edges):
        return (
            edges
            | "BothWays" >> beam.FlatMap(lambda e: [(e[0], e[1]), (e[1], e[0])])
            | "ByNode" >> beam.GroupByKey()
            | "LargeStar" >> beam.FlatMap(_large_star)
            | "ByLargerEnd" >> beam.Map(lambda e: (e[1], e[0]))
            | "ByNodeSmall" >> beam.GroupByKey()
            | "SmallStar" >> beam.FlatMap(_small_star)
        )


def _not_a_star_count(node_roles):
    """A node that is the larger end of one edge and the smaller end of another, or has two
    parents, means the components are not stars yet."""
    _, roles = node_roles
    roles = list(roles)
    parents = sum(1 for r in roles if r == "child")
    children = sum(1 for r in roles if r == "parent")
    yield 1 if parents > 1 or (parents and children) else 0


class _CheckStars(beam.DoFn):
    def __init__(self, max_rounds: int):
        self._max_rounds = max_rounds

    def process(self, bad: int):
        if bad:
            raise RuntimeError(
                f"connected components did not converge in {self._max_rounds} rounds ({bad} nodes still chained): raise dedup.minhash.max_rounds"
            )
        yield bad


class ConnectedComponents(beam.PTransform):
    """edges (a, b) -> (node, smallest node of its component) for every node with an edge."""

    def __init__(self, max_rounds: int):
        super().__init__()
        self._max_rounds = max_rounds

    def expand(self, edges):
        current = edges | "Canonical" >> beam.Map(lambda e: _canonical(*e)) | "Distinct" >> beam.Distinct()
        for r in range(self._max_rounds):
            current = current | f"Round{r}" >> _Round()
        current = current | "DistinctEdges" >> beam.Distinct()
        check = (
            current
            | "Roles" >> beam.FlatMap(lambda e: [(e[0], "parent"), (e[1], "child")])
            | "RolesByNode" >> beam.GroupByKey()
            | "NotStar" >> beam.FlatMap(_not_a_star_count)
            | "CountNotStar" >> beam.CombineGlobally(sum)
            | "Check" >> beam.ParDo(_CheckStars(self._max_rounds))
        )
        # The labels wait for the check, so a run that did not converge writes no result.
        return current | "Label" >> beam.Map(lambda e, _: (e[1], e[0]), beam.pvalue.AsSingleton(check))
