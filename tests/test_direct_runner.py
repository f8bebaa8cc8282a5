"""`--runner=DirectRunner` runs on the FnApiRunner whatever the network: Beam's own DirectRunner
would first try Prism, which it downloads from GitHub during the run (pipeline.beam_fixes)."""

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability import prism_runner
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf import json_format

from pipeline.beam_fixes import direct_runner


@pytest.fixture
def prism_tries(monkeypatch):
    """Every hand-over to Prism, refused (so a run that tries falls back, as with no network)."""
    tries = []

    def refuse(self, pipeline, options):
        tries.append(pipeline)
        raise RuntimeError("no Prism in this test")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    return tries


def _squares(runner, options):
    with beam.Pipeline(runner=runner, options=options) as p:
        assert_that(p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * x), equal_to([1, 4, 9]))


def test_beams_direct_runner_hands_the_run_to_prism_first(prism_tries):
    # What the fix is for; if a later Beam stops doing this, direct_runner can go.
    _squares(None, PipelineOptions(["--runner=DirectRunner"]))
    assert len(prism_tries) == 1


@pytest.mark.parametrize("flags", [["--runner=DirectRunner"], [], ["--runner=direct"]])
def test_the_direct_runner_is_the_fn_api_runner_and_never_tries_prism(prism_tries, flags):
    options = PipelineOptions(flags)
    runner = direct_runner(options)
    assert isinstance(runner, fn_runner.FnApiRunner)
    _squares(runner, options)
    assert prism_tries == []


@pytest.mark.parametrize("flags", [["--runner=PrismRunner"], ["--runner=FlinkRunner"], ["--runner=DataflowRunner"]])
def test_other_runners_are_left_to_beam(flags):
    assert direct_runner(PipelineOptions(flags)) is None


def _worker_options(flags) -> dict:
    runner = direct_runner(PipelineOptions(["--runner=DirectRunner", *flags]))
    encoded = json_format.MessageToDict(runner._provision_info.provision_info.pipeline_options)
    return {key.removeprefix("beam:option:").removesuffix(":v1"): value for key, value in encoded.items()}  # as the workers read them


def test_workers_log_warnings_and_skip_their_start_up_notices_unless_told_otherwise():
    options = _worker_options([])
    assert options["default_sdk_harness_log_level"] == "WARNING"
    assert options["sdk_harness_log_level_overrides"] == {"__main__": "ERROR", "apache_beam.options.pipeline_options": "ERROR"}
    told = _worker_options(["--default_sdk_harness_log_level=DEBUG", '--sdk_harness_log_level_overrides={"my.module": "INFO"}'])
    assert told["default_sdk_harness_log_level"] == "DEBUG"
    assert told["sdk_harness_log_level_overrides"] == {"my.module": "INFO"}
    assert options["direct_num_workers"] == told["direct_num_workers"]  # the rest as given
