"""The run report: OUT/report.html, written by the run's last step just before stats.json.

scores.py   the score table, read from the stages' declarations (pipeline.stages.registry):
            bins per score and the config thresholds drawn on it; no stage module is loaded
collect.py  the Beam side: histograms, examples per reason, per-stage volumes and progress
svg.py      small deterministic inline-SVG plots
html.py     the page
"""

import logging
import traceback
from typing import Any

from pipeline.io.write import write_atomically
from pipeline.report.collect import ReportData
from pipeline.report.html import REPORT_FILE, clean, render

__all__ = ["REPORT_FILE", "ReportData", "render", "write_report"]


def write_report(output: str, stats: dict[str, Any], data: ReportData) -> None:
    """Writes OUT/report.html. A bug in the report must not cost the run its stats.json: the page
    then says what failed, and the error is logged."""
    try:
        page = render(stats, data)
    except Exception:  # noqa: BLE001
        error = traceback.format_exc()
        logging.getLogger(__name__).error("report.html could not be rendered:\n%s", error)
        page = f"<!DOCTYPE html><html><head><meta charset=utf-8><title>Run report</title></head><body><h1>The report failed</h1><pre>{clean(error)}</pre></body></html>\n"
    payload = page.encode("utf-8")
    write_atomically(f"{output}/{REPORT_FILE}", lambda sink: sink.write(payload))
