"""A URL's site, as the report and the WARC reader name it."""

from urllib.parse import urlsplit


def domain_of(url: str) -> str:
    """The host, lowercased, without port or one leading "www."; "" when the URL has none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")
