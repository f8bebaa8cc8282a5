"""Pipelines for tests, on the runner `pipeline.run` uses for `--runner=DirectRunner`: the
FnApiRunner (pipeline.beam_fixes.direct_runner). Beam's own DirectRunner would move a test's
pipeline to Prism wherever GitHub is reachable, so a laptop and CI would run different runners."""

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.beam_fixes import direct_runner


def local_pipeline(options: PipelineOptions | None = None) -> beam.Pipeline:
    options = options or PipelineOptions()
    return beam.Pipeline(runner=direct_runner(options), options=options)


def local_test_pipeline() -> TestPipeline:
    """A TestPipeline (assert_that checks on run), on the FnApiRunner."""
    return TestPipeline(runner=direct_runner(PipelineOptions()))
