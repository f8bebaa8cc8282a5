"""Builds KenLM's command-line tools (lmplz, build_binary, query) from the `kenlm` source
distribution on PyPI, which carries the whole KenLM tree although the package only installs the
Python module. Needed only to train models; scoring uses the `kenlm` module.

    python -m pipeline.lm.build_tools            # -> ~/.cache/corpusforge/kenlm-0.3.0/bin

Needs a C++ compiler, cmake, make, and Boost (program_options, system, thread) plus zlib, bzip2
and lzma headers; on Debian/Ubuntu:
    apt-get install cmake g++ make libboost-program-options-dev libboost-system-dev \
        libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev
About 30 s on two cores.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

KENLM_VERSION = "0.3.0"
TOOLS = ("lmplz", "build_binary", "query")
MAX_ORDER = 6  # models up to 6-grams; KenLM's default build stops at 6 as well
BIN_ENV = "CORPUSFORGE_KENLM_BIN"
DEBIAN_PACKAGES = (
    "cmake g++ make libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"
)


class ToolsMissing(RuntimeError):
    pass


def default_bin_dir() -> str:
    return os.environ.get(BIN_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "corpusforge", f"kenlm-{KENLM_VERSION}", "bin")


def find_tools(bin_dir: str | None = None) -> dict[str, str]:
    """{tool: path}, or ToolsMissing saying how to build them."""
    bin_dir = bin_dir or default_bin_dir()
    paths = {tool: os.path.join(bin_dir, tool) for tool in TOOLS}
    missing = [tool for tool, path in paths.items() if not os.access(path, os.X_OK)]
    if missing:
        raise ToolsMissing(f"KenLM tools {', '.join(missing)} not found in {bin_dir}: run `python -m pipeline.lm.build_tools` (or set {BIN_ENV})")
    return paths


def _run(cmd: list[str], cwd: str, log: str) -> None:
    with open(log, "ab") as out:
        result = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log, "rb") as f:
            tail = f.read()[-3000:].decode("utf-8", "replace")
        raise RuntimeError(
            f"`{' '.join(cmd)}` failed (exit {result.returncode}); log: {log}\n{tail}\n"
            f"On Debian/Ubuntu the build needs: apt-get install {DEBIAN_PACKAGES}"
        )


def build(bin_dir: str | None = None, jobs: int | None = None) -> dict[str, str]:
    """Downloads the sdist, builds the tools and installs them into bin_dir (atomically: the
    folder appears complete or not at all). Returns find_tools(bin_dir)."""
    bin_dir = bin_dir or default_bin_dir()
    for tool in ("cmake", "make", "c++"):
        if shutil.which(tool) is None:
            raise ToolsMissing(f"{tool} not found; on Debian/Ubuntu: apt-get install {DEBIAN_PACKAGES}")
    jobs = jobs or os.cpu_count() or 1
    parent = os.path.dirname(os.path.abspath(bin_dir))
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kenlm-build-", dir=parent) as work:
        log = os.path.join(parent, "build.log")
        open(log, "wb").close()
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "kenlm", f"kenlm=={KENLM_VERSION}", "-d", work], work, log)
        (sdist,) = [f for f in os.listdir(work) if f.endswith(".tar.gz")]
        with tarfile.open(os.path.join(work, sdist)) as tar:
            tar.extractall(work, filter="data")
        source = os.path.join(work, f"kenlm-{KENLM_VERSION}")
        build_dir = os.path.join(source, "build")
        os.makedirs(build_dir)
        _run(["cmake", "..", f"-DKENLM_MAX_ORDER={MAX_ORDER}", "-DCMAKE_BUILD_TYPE=Release"], build_dir, log)
        _run(["make", f"-j{jobs}", *TOOLS], build_dir, log)
        staged = os.path.join(work, "bin")
        os.makedirs(staged)
        for tool in TOOLS:
            shutil.copy2(os.path.join(build_dir, "bin", tool), staged)
        if os.path.isdir(bin_dir):
            shutil.rmtree(bin_dir)
        os.replace(staged, bin_dir)
    return find_tools(bin_dir)


def ensure_tools(bin_dir: str | None = None) -> dict[str, str]:
    try:
        return find_tools(bin_dir)
    except ToolsMissing:
        return build(bin_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", default=None, help=f"folder for the binaries (default: {default_bin_dir()})")
    parser.add_argument("--jobs", type=int, default=None, help="parallel compile jobs (default: all cores)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the tools are there")
    parser.add_argument("--debian-packages", action="store_true", help="print the Debian packages the build needs, and exit")
    args = parser.parse_args(argv)
    if args.debian_packages:
        print(DEBIAN_PACKAGES)
        return 0
    try:
        tools = build(args.dest, args.jobs) if args.force else ensure_tools(args.dest)
    except (ToolsMissing, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(os.path.dirname(tools["lmplz"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
