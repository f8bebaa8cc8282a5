"""The get_dofn_specs memo returns what Beam computes, once per live DoFn instance."""

import gc

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from pipeline.beam_overhead import memoize_dofn_specs, per_instance
from tests.local_beam import local_pipeline


class _Stateful(beam.DoFn):
    COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())

    def process(self, element, count=beam.DoFn.StateParam(COUNT)):  # noqa: B008 (how Beam declares state)
        yield element


class _Plain(beam.DoFn):
    def process(self, element):
        yield element


def test_computed_once_per_instance_and_again_for_a_new_one():
    asked = []
    specs = per_instance(lambda dofn: asked.append(dofn) or (set(), set()))
    plain = _Plain()
    first = specs(plain)
    assert specs(plain) is first and asked == [plain]
    other = _Plain()
    specs(other)
    assert asked == [plain, other]


def test_a_collected_dofn_is_not_answered_for_a_new_one_at_its_id():
    specs = per_instance(userstate.get_dofn_specs)
    specs(_Plain())  # cached, then collected: a later object may reuse its id()
    gc.collect()
    for _ in range(50):
        states, _ = specs(_Stateful())
        assert [s.name for s in states] == ["count"]


def test_beams_answers_are_unchanged_and_a_stateful_pipeline_runs():
    memoize_dofn_specs()
    memoize_dofn_specs()  # idempotent
    assert getattr(userstate.get_dofn_specs, "_memoized", False)
    stateful = _Stateful()
    states, timers = userstate.get_dofn_specs(stateful)
    assert [s.name for s in states] == ["count"] and not timers
    assert userstate.is_stateful_dofn(stateful) and not userstate.is_stateful_dofn(_Plain())
    with local_pipeline() as p:
        out = p | beam.Create([("a", 1), ("a", 2), ("b", 3)]) | beam.ParDo(_Stateful())
        assert_that(out, equal_to([("a", 1), ("a", 2), ("b", 3)]))


def test_option_views_are_remembered_and_stay_views():
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

    from pipeline.beam_overhead import memoize_option_views

    memoize_option_views()
    memoize_option_views()  # idempotent
    options = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=3"])
    view = options.view_as(DirectOptions)
    assert options.view_as(DirectOptions) is view and view.direct_num_workers == 3
    options.view_as(StandardOptions).runner = "FnApiRunner"  # a write through one view shows in every other
    assert options.view_as(StandardOptions).runner == "FnApiRunner" and options.get_all_options()["runner"] == "FnApiRunner"
    other = PipelineOptions(["--direct_num_workers=5"])
    assert other.view_as(DirectOptions).direct_num_workers == 5 and other.view_as(DirectOptions) is not view


def test_a_remembered_answer_is_dropped_when_it_no_longer_holds():
    valid = {"ok": True}
    specs = per_instance(lambda obj, n: object(), lambda obj, answer: valid["ok"])
    plain = _Plain()
    first = specs(plain, 1)
    assert specs(plain, 1) is first and specs(plain, 2) is not first
    valid["ok"] = False
    assert specs(plain, 1) is not first
