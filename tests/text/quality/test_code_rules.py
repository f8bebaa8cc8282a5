"""Code rules (StarCoder filters, The Stack's generated-file check): each fixture is a plausible
source file that fails exactly one code rule. Code gets the code family only."""

import base64
import random

import pytest

from pipeline.text.quality import code
from pipeline.text.quality.code import CodeReason as R
from tests.text.quality.helpers import config_with, run_quality

STAGE = code.STAGE_ID

STATIONS_PY = '''"""Small helpers for reading the station list of the regional weather network."""

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    latitude: float
    longitude: float
    elevation_m: int


def load_stations(path: Path) -> list[Station]:
    """Reads stations.csv; rows without coordinates are skipped."""
    stations = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["lat"] or not row["lon"]:
                continue
            stations.append(
                Station(
                    code=row["code"].strip().upper(),
                    name=row["name"].strip(),
                    latitude=float(row["lat"]),
                    longitude=float(row["lon"]),
                    elevation_m=int(row.get("elevation") or 0),
                )
            )
    return stations


def nearest(stations: list[Station], lat: float, lon: float) -> Station:
    """The station closest to (lat, lon), by squared degrees (good enough at this scale)."""
    return min(stations, key=lambda s: (s.latitude - lat) ** 2 + (s.longitude - lon) ** 2)
'''

# One chart per line: lines of 130 to 200 characters (mean 168), none near 1000.
CHARTS_JS = """// Dashboard widgets, one per line: each chart is configured inline to keep the bundle free of extra modules.
export const formatCurrency = (amount, currency = "EUR") => new Intl.NumberFormat(navigator.language, { style: "currency", currency, maximumFractionDigits: 0 }).format(amount);
export const renderSalesChart = (canvas, rows) => new Chart(canvas, { type: "bar", data: { labels: rows.map((row) => row.region), datasets: [{ label: "Sales", data: rows.map((row) => row.total) }] } });
export const renderVisitorsChart = (canvas, days, counts) => new Chart(canvas, { type: "line", data: { labels: days, datasets: [{ label: "Visitors", data: counts, tension: 0.3 }] } });
export const renderShareChart = (canvas, shares) => new Chart(canvas, { type: "doughnut", data: { labels: Object.keys(shares), datasets: [{ data: Object.values(shares) }] }, options: { cutout: "60%" } });
export const captionFor = (period, updatedAt) => `Figures for ${period.label}, last updated ${new Date(updatedAt).toLocaleString(navigator.language, { dateStyle: "medium", timeStyle: "short" })}`;
export const thousands = (value) => (value >= 1000 ? `${(value / 1000).toFixed(1)}k` : String(value));
"""

# One regex of 105 crawler names (1077 characters) in an otherwise ordinary module.
CRAWLERS = (
    "googlebot bingbot slurp duckduckbot baiduspider yandexbot sogou exabot facebot facebookexternalhit "
    "ia_archiver applebot petalbot semrushbot ahrefsbot mj12bot dotbot rogerbot screaming.frog seznambot blexbot "
    "megaindex serpstatbot dataforseobot linkdexbot gigabot twitterbot linkedinbot pinterestbot slackbot discordbot "
    "telegrambot whatsapp skypeuripreview redditbot embedly quora.link.preview outbrain tumblr bitlybot vkshare "
    "w3c_validator nutch heritrix archive.org_bot ccbot gptbot claudebot bytespider amazonbot perplexitybot youbot "
    "cohere-ai diffbot omgili neevabot zoominfobot barkrowler mojeekbot qwantify yeti naverbot daum coccocbot "
    "sputnikbot uptimerobot pingdom site24x7 statuscake newrelicpinger datadog.agent headlesschrome phantomjs "
    "python-requests go-http-client curl wget libwww-perl okhttp java/ scrapy httpclient aiohttp node-fetch axios "
    "guzzlehttp apache-httpclient feedfetcher feedly inoreader newsblur netvibes flipboardproxy nuzzel superfeedr "
    "rssowl mastodon pleroma misskey bluesky.cardyb iframely opengraphcheck"
).split()
LOG_REPORT_PY = f'''"""Request classification for the access-log report."""

import re

# Known crawlers and link-preview fetchers, matched case-insensitively against the User-Agent.
BOT_PATTERN = re.compile(r"{"|".join(CRAWLERS)}", re.IGNORECASE)


def is_bot(user_agent: str) -> bool:
    """True for crawlers, uptime monitors and scripted clients."""
    if not user_agent:
        return True
    return BOT_PATTERN.search(user_agent) is not None


def split_traffic(records):
    """(human, bot) request counts for a list of parsed log records."""
    humans = bots = 0
    for record in records:
        if is_bot(record.get("user_agent", "")):
            bots += 1
        else:
            humans += 1
    return humans, bots
'''

# A command-line tool that is mostly its ASCII-art banner.
BANNER_PY = r'''import sys

BANNER = r"""
  ____    _    _   _ _____ _____  _____
 / ___|  / \  | \ | |_   _| ____||  __ \
| |     / _ \ |  \| | | | |  _|  | |__) |
| |___ / ___ \| |\  | | | | |___ |  _  /
 \____/_/   \_\_| \_| |_| |_____||_| \_\

+------------------------------------------+
|   ~~~   ~~~   ~~~   ~~~   ~~~   ~~~      |
|  (o o) (o o) (o o) (o o) (o o) (o o)     |
|   \_/   \_/   \_/   \_/   \_/   \_/      |
+------------------------------------------+
"""


def main():
    print(BANNER)
    sys.exit(0)
'''

MIGRATION_PY = """# Generated by Django 4.2.7 on 2023-11-14 09:21

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0012_product_weight"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="discontinued",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="product",
            name="sku",
            field=models.CharField(max_length=32, unique=True),
        ),
    ]
"""


def _crc32_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32_table()
# A table-driven CRC-32: 64 lines of hex literals, 8 other non-empty lines.
CRC32_PY = (
    '"""CRC-32 (IEEE 802.3) without zlib, for the firmware image checker."""\n\nCRC32_TABLE = [\n'
    + "".join("    " + ", ".join(f"0x{v:08X}" for v in _TABLE[i : i + 4]) + ",\n" for i in range(0, 256, 4))
    + """]


def crc32(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = CRC32_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
"""
)

# An inlined PNG as concatenated 76-character base64 chunks: the `"..." +` lines are not bare
# literals (so not data lines), but 82% of the file's characters are base64.
_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(1500)).decode()
_CHUNKS = [_PNG[i : i + 76] for i in range(0, len(_PNG), 76)]
OFFLINE_LOGO_JS = (
    "// Fallback logo, inlined so the offline page needs no network request.\nconst LOGO_PNG_BASE64 =\n"
    + "".join(f'  "{chunk}" +\n' for chunk in _CHUNKS[:-1])
    + f'  "{_CHUNKS[-1]}";\n'
    + """
export function showOfflineLogo(img) {
  img.src = `data:image/png;base64,${LOGO_PNG_BASE64}`;
  img.alt = "Offline";
}
"""
)


def test_ordinary_module_passes_every_rule():
    out = run_quality(STATIONS_PY, source="code")
    assert out.failures == []
    assert out.failed_rules == []
    assert all(key.startswith(STAGE) for key in out.doc.scores)  # no prose families for code
    assert out.doc.text == STATIONS_PY  # and no C4 cleaning


@pytest.mark.parametrize(
    "text, reason, setting",
    [
        (CHARTS_JS, R.LONG_MEAN_LINE, "max_mean_line_length"),
        (LOG_REPORT_PY, R.LONG_LINE, "max_line_length"),
        (BANNER_PY, R.LOW_ALNUM, "min_alnum_fraction"),
        (MIGRATION_PY, R.AUTOGENERATED, "forbid_autogenerated"),
        (CRC32_PY, R.DATA_LINES, "max_data_line_fraction"),
        (OFFLINE_LOGO_JS, R.ENCODED_DATA, "max_encoded_fraction"),
    ],
    ids=["mean_line_too_long", "line_too_long", "low_alnum", "autogenerated", "data_lines", "encoded_data"],
)
def test_source_file_fails_exactly_one_rule(text, reason, setting):
    out = run_quality(text, source="code")
    assert out.failures == [(STAGE, reason)]
    assert out.failed_rules == [("code", setting)]


def test_signal_values():
    assert run_quality(LOG_REPORT_PY, source="code").score("code", "max_line_length") == max(map(len, LOG_REPORT_PY.splitlines())) > 1000
    crc = run_quality(CRC32_PY, source="code")
    assert crc.score("code", "data_line_fraction") == 64 / 72  # the table rows, of 72 non-empty lines
    assert crc.score("code", "encoded_fraction") == 0  # hex numbers are separated, not a blob


def test_autogenerated_marker_counts_only_near_the_top():
    moved = "\n".join(MIGRATION_PY.splitlines()[1:] + ["# Generated by Django 4.2.7 on 2023-11-14 09:21"])
    assert run_quality(moved, source="code").failures == []


def test_a_rule_switched_off_is_not_evaluated():
    assert run_quality(MIGRATION_PY, source="code", cfg=config_with("code", forbid_autogenerated=False)).failures == []
    assert run_quality(CRC32_PY, source="code", cfg=config_with("code", max_data_line_fraction=None)).failures == []
