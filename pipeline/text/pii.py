"""PII redaction as FineWeb does it (datatrove's PIIFormatter; our own code). No Beam here.

Email addresses and public IP addresses are replaced by placeholders; counts per document go
into scores (`<stage id>:emails`, `<stage id>:ips`).
- Emails: datatrove's pattern (RFC 5322-ish local part, dotted domain or [IPv4] literal), made
  case-insensitive (datatrove's is lowercase-only and leaves "John.Doe@Example.COM").
- IPv4 (dotted quad) and IPv6 (colon-hex, "::" compression, optional dotted tail) candidates,
  kept unless Python's `ipaddress` says `is_global`: 10.x, 192.168.x, 127.x, fe80::, ::1, the
  documentation ranges stay; 8.8.8.8 goes. datatrove redacts IPv4 only.
- Placeholders: datatrove's (example.com/org addresses; its six IPv4s that did not answer ping
  when chosen, and 2001:db8:: documentation addresses for IPv6). datatrove cycles through them
  with a counter, so the output depends on what the worker saw before; here the choice is a
  hash of the matched string, so a document's output is the same on every run and runner.
Phone numbers are not redacted (FineWeb does not; their precision was not measured here).

Batched: `redact_batch` skips the email regex for documents without "@", and the IP regex for
those without what every address contains (_IP_HINT); the matching itself is one C-level regex
scan per document (a joined batch scan measured no faster).
"""

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class PiiConfig:
    """Email and public IP addresses replaced by placeholders, as FineWeb does (pipeline.text.pii)."""

    enabled: bool = True
    apply: list[str] = field(default_factory=lambda: ["web"])  # sources whose text is redacted
    emails: bool = True
    ips: bool = True
    only_public_ips: bool = True  # FineWeb: private / loopback / link-local addresses are not PII
    batch_size: int = 256

    def __post_init__(self):
        check(1 <= self.batch_size <= 100_000, "pii.batch_size", "must be in [1, 100000]")


PII_STAGE = "extract.pii.v1"

_EMAIL = re.compile(
    r"\b[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
    r"(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    r"|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\])",
    re.IGNORECASE,
)
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
# An IPv6 candidate: 2+ colons among hex groups (ipaddress decides); not inside a longer token.
_IPV6 = r"(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|" + _IPV4 + r")?"
# Not inside a longer token; an IPv4 may be followed by ":port", an IPv6 by no further colon.
_IP = re.compile(r"(?<![\w.:])(?:" + _IPV4 + r"(?!\w|\.\d)|" + _IPV6 + r"(?![\w:]|\.\d))", re.IGNORECASE)
# What every _IP match contains (an IPv4 has digit.digit, an IPv6 two colons with at most four hex
# digits between): one search for it is 6x cheaper than _IP's scan, and most texts have neither.
_IP_HINT = re.compile(r"[0-9]\.[0-9]|:[0-9a-fA-F]{0,4}:")

EMAIL_PLACEHOLDERS = ("email@example.com", "firstname.lastname@example.org")
IPV4_PLACEHOLDERS = ("22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168")
IPV6_PLACEHOLDERS = ("2001:db8::1", "2001:db8::2", "2001:db8::3")


@dataclass(frozen=True)
class Redacted:
    text: str
    emails: int
    ips: int

    def scores(self, stage_id: str = PII_STAGE) -> dict[str, float]:
        return {f"{stage_id}:emails": float(self.emails), f"{stage_id}:ips": float(self.ips)}


def _pick(options: tuple[str, ...], matched: str) -> str:
    h = hashlib.blake2b(matched.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return options[int.from_bytes(h, "big") % len(options)]


def redact(text: str, cfg: PiiConfig) -> Redacted:
    emails = ips = 0
    if cfg.emails and "@" in text:

        def email_sub(m: re.Match) -> str:
            nonlocal emails
            emails += 1
            return _pick(EMAIL_PLACEHOLDERS, m.group(0))

        text = _EMAIL.sub(email_sub, text)
    if cfg.ips and _IP_HINT.search(text):

        def ip_sub(m: re.Match) -> str:
            nonlocal ips
            s = m.group(0)
            try:
                addr = ipaddress.ip_address(s)
            except ValueError:
                return s  # "12:30:45", "a:b:c": not an address
            if cfg.only_public_ips and not addr.is_global:
                return s
            ips += 1
            return _pick(IPV4_PLACEHOLDERS if addr.version == 4 else IPV6_PLACEHOLDERS, s)

        text = _IP.sub(ip_sub, text)
    return Redacted(text, emails, ips)


def redact_batch(texts: list[str], cfg: PiiConfig) -> list[Redacted]:
    return [redact(t, cfg) for t in texts]
