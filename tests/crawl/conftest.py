import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "crawl"


@pytest.fixture(scope="session")
def expectations() -> dict:
    return json.loads((DATA / "expectations.json").read_text(encoding="utf-8"))
