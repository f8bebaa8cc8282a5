"""Joins by id that shuffle only the records they concern (pipeline.stages.route)."""

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.id_hashes import SortedHashes, holds, id_hash
from pipeline.records import Document
from pipeline.stages.route import AFFECTED, SplitByIds, join_named
from tests.local_beam import local_pipeline


def _doc(i: int) -> Document:
    return Document(id=f"d{i:03d}", text=f"text {i}", source="web")


def test_split_sends_only_named_ids_to_the_join_side():
    with local_pipeline() as p:
        keyed = p | "Records" >> beam.Create([(f"d{i}", i) for i in range(50)])
        ids = p | "Ids" >> beam.Create(["d3", "d17", "d3", "nobody"])
        split = keyed | SplitByIds(ids)
        assert_that(split[AFFECTED], equal_to([("d3", 3), ("d17", 17)]), label="Affected")
        assert_that(split.untouched, equal_to([(f"d{i}", i) for i in range(50) if i not in (3, 17)]), label="Untouched")


def test_no_ids_leaves_every_record_untouched():
    with local_pipeline() as p:
        keyed = p | "Records" >> beam.Create([("a", 1), ("b", 2)])
        split = keyed | SplitByIds(p | "NoIds" >> beam.Create([]))
        assert_that(split[AFFECTED], equal_to([]), label="Affected")
        assert_that(split.untouched, equal_to([("a", 1), ("b", 2)]), label="Untouched")


def test_join_named_groups_like_a_join_of_everything():
    docs = [_doc(i) for i in range(20)]
    pairs = [("d004", "x"), ("d004", "y"), ("d011", "z"), ("d999", "orphan")]
    with local_pipeline() as p:
        joined = join_named(p | "Docs" >> beam.Create(docs), p | "Pairs" >> beam.Create(pairs), "test.stage")
        groups = joined.joined | beam.MapTuple(lambda k, g: (k, sorted(d.id for d in g["doc"]), sorted(g["drop"])))
        assert_that(groups, equal_to([("d004", ["d004"], ["x", "y"]), ("d011", ["d011"], ["z"]), ("d999", [], ["orphan"])]), label="Joined")
        untouched = joined.untouched | beam.Map(lambda d: d.id)
        assert_that(untouched, equal_to([d.id for d in docs if d.id not in ("d004", "d011")]), label="Untouched")


def test_sorted_hashes_merge_into_one_sorted_unique_array_that_holds_answers():
    fn = SortedHashes()
    a = fn.add_input(fn.add_input(fn.create_accumulator(), id_hash("x")), id_hash("y"))
    b = fn.add_input(fn.create_accumulator(), id_hash("x"))
    out = fn.extract_output(fn.merge_accumulators([a, b]))
    assert out.tolist() == sorted({id_hash("x"), id_hash("y")})
    assert holds(out, "x") and holds(out, "y") and not holds(out, "z")
    assert not holds(fn.extract_output(fn.create_accumulator()), "x")
