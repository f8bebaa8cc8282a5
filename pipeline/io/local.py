"""Model files for libraries that only open local paths (fastText, KenLM).

A path on a Beam filesystem (gs://, s3://, hdfs://) is copied once per worker process into a
local cache folder, named by a hash of the path, through a temporary name and a rename, so
concurrent threads or processes never see half a file. Local paths are returned unchanged.
"""

import hashlib
import os
import tempfile

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_CHUNK = 16 * 2**20


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def local_copy(path: str) -> str:
    if is_local(path):
        return path.removeprefix("file://")
    cache = os.path.join(tempfile.gettempdir(), "corpusforge-models")
    os.makedirs(cache, exist_ok=True)
    name = hashlib.sha256(path.encode("utf-8")).hexdigest()[:16] + "-" + os.path.basename(path)
    target = os.path.join(cache, name)
    if os.path.exists(target):
        return target
    fd, staged = tempfile.mkstemp(dir=cache, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out, FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
        os.replace(staged, target)
    except BaseException:
        if os.path.exists(staged):
            os.unlink(staged)
        raise
    return target
