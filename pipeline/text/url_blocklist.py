"""Fetch the UT1 adult blocklist and FineWeb's URL word lists from datatrove's wheel.

Run:  python -m pipeline.text.url_blocklist [--out ~/.cache/corpusforge/ut1]

The UT1 blocklists (Université Toulouse 1 Capitole, Fabrice Prigent; CC BY-SA 4.0) are what
FineWeb's URL filter reads; datatrove 0.10.1's wheel ships the adult category as
`datatrove/assets/url_filterblacklistsv0_3_0.tar.gz`, and its three URL word lists
(banned_words.txt, soft_banned_words.txt, banned_subwords.txt; datatrove is Apache-2.0) next to it.
This downloads that one wheel with `pip download --no-deps` (the ordinary PyPI client), checks
its sha256 against the pin below, and extracts from it, without importing datatrove:
  OUT/domains, OUT/urls            (the tar.gz's two files)
  OUT/banned_words.txt, OUT/soft_banned_words.txt, OUT/banned_subwords.txt
  OUT/SOURCE                       (wheel, sha256, licences)
pipeline.text.urls reads OUT by default.
"""

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from pipeline.cli_args import OneLineParser

WHEEL = "datatrove==0.10.1"
WHEEL_FILE = "datatrove-0.10.1-py3-none-any.whl"
WHEEL_SHA256 = "b0846fc28482b25c9dbeaa09445066ff68266b58d762e9344c64fe5f6d92d14c"
TARBALL = "datatrove/assets/url_filterblacklistsv0_3_0.tar.gz"
WORD_LISTS = ("banned_words.txt", "soft_banned_words.txt", "banned_subwords.txt")
DEFAULT_OUT = os.path.join(os.path.expanduser("~"), ".cache", "corpusforge", "ut1")


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def install(out: str, wheel_dir: str | None = None) -> list[str]:
    """Extracts the lists into `out`; downloads the wheel into a temp dir unless wheel_dir has it."""
    with tempfile.TemporaryDirectory() as tmp:
        src = wheel_dir or tmp
        wheel = os.path.join(src, WHEEL_FILE)
        if not os.path.exists(wheel):
            subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-d", src, "-q"], check=True)
        digest = sha256_of(wheel)
        if digest != WHEEL_SHA256:
            raise SystemExit(f"url_blocklist: {WHEEL_FILE} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to use it")
        os.makedirs(out, exist_ok=True)
        written = []
        with zipfile.ZipFile(wheel) as z:
            with z.open(TARBALL) as raw, tarfile.open(fileobj=raw, mode="r:gz") as tar:
                for member in tar.getmembers():
                    name = os.path.basename(member.name)
                    if member.isfile() and name in ("domains", "urls"):
                        with tar.extractfile(member) as f, open(os.path.join(out, name), "wb") as dst:  # type: ignore[union-attr]
                            dst.write(f.read())
                        written.append(name)
            for name in WORD_LISTS:
                with z.open(f"datatrove/assets/{name}") as f, open(os.path.join(out, name), "wb") as dst:
                    dst.write(f.read())
                written.append(name)
    with open(os.path.join(out, "SOURCE"), "w") as f:
        f.write(
            f"{WHEEL} ({WHEEL_FILE}, sha256 {WHEEL_SHA256}) from PyPI.\n"
            f"domains, urls: {TARBALL}, UT1 blocklists 'adult', CC BY-SA 4.0 (Universite Toulouse 1 Capitole).\n"
            f"{', '.join(WORD_LISTS)}: datatrove/assets, Apache-2.0 (Hugging Face).\n"
        )
    return sorted(written)


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m pipeline.text.url_blocklist", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"folder to write the lists to (default {DEFAULT_OUT})")
    ap.add_argument("--wheel-dir", default=None, help=f"a folder that already holds {WHEEL_FILE} (skips the download)")
    args = ap.parse_args(argv)
    written = install(os.path.expanduser(args.out), args.wheel_dir)
    print(f"url_blocklist: wrote {', '.join(written)} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
