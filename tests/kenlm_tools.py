"""KenLM's command-line tools for the tests that need them (training, `query`).

Built once into the user cache by pipeline.lm.build_tools (about 30 s) when a compiler, cmake and
Boost are there; `.ci/run` installs those, so in CI these tests always run."""

import functools
import os
import shutil

import pytest

from pipeline.lm.build_tools import ToolsMissing, ensure_tools, find_tools


@functools.cache
def _tools() -> dict[str, str] | str:
    try:
        return find_tools()
    except ToolsMissing:
        pass
    if shutil.which("cmake") is None or not os.path.exists("/usr/include/boost/program_options.hpp"):
        return "KenLM tools not built and no cmake/Boost to build them (python -m pipeline.lm.build_tools)"
    try:
        return ensure_tools()
    except (ToolsMissing, RuntimeError) as e:
        return f"building KenLM tools failed: {str(e).splitlines()[0]}"


def kenlm_tools() -> dict[str, str]:
    tools = _tools()
    if isinstance(tools, str):
        pytest.skip(tools)
    return tools
