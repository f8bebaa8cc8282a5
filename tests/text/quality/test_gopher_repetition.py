"""Gopher repetition rules (Table A1): each fixture is a plausible web document that fails exactly
one rule of every family web text gets, through the real stages (see helpers.run_quality).

The rules are strict and coupled, so each fixture is built around one kind of repetition:
- a repeated line or paragraph of prose is also a run of repeated 5..10-grams, so the repeated
  lines and paragraphs below are URLs (one token each) or one-word lines, and what precedes and
  follows them differs, so no n-gram around them repeats either;
- a repeated n-gram's first n-1 tokens repeat as often, so a top n-gram fixture keeps the shorter
  n-grams it contains under their own (higher) thresholds;
- repeated lines that C4 keeps would fail FineWeb's 1% duplicate-line rule, so they are lines
  C4 drops (no terminal punctuation).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text.quality import gopher_repetition
from pipeline.text.quality.gopher_repetition import GopherRepetitionReason as R
from tests.text.quality.helpers import config_with, run_quality

STAGE = gopher_repetition.STAGE_ID

# A comment thread: its "Reply" lines repeat, 4 of 16 lines (0.25 <= 0.3): passes every rule.
COMMENTS = """Comments (5)

Posted by marta_k on 3 March
We tried this recipe last night and it was delicious, although we used half the chilli because of the kids.
Reply

Posted by dave1974 on 4 March
Can you freeze the sauce? I would like to make a big batch on Sunday and keep some for busy weekdays.
Reply

Posted by the author on 4 March
Yes, it freezes well for up to three months. Let it cool completely before you put it in the freezer.
Reply

Posted by Priya on 6 March
I added a tin of chickpeas at the end and served it with rice. My husband has already asked for it again.
Reply

Posted by Tom W on 9 March
The cooking time was a bit short for my oven, so I left it in for another ten minutes and it was perfect.
Reply"""

# The same thread with "Like" and "Reply" under each comment: 8 of 21 lines repeat (0.38).
COMMENTS_WITH_BUTTONS = COMMENTS.replace("\nReply", "\nLike\nReply")

# A news article with an ADVERTISEMENT slot after every section: 3 of 9 paragraphs repeat (0.33)
# but only 3% of the characters, and the repeated lines are 3 of 13.
STORM_ARTICLE = """Storm damage closes coastal road for a week

The coastal road between Westhaven and Port Ellis will stay closed for at least a week after Tuesday's storm washed away part of the sea wall. Engineers from the county council inspected the site on Wednesday and found that a section of the carriageway had been undermined.
Drivers are being sent inland through Millbrook, which adds about twenty minutes to the journey.

ADVERTISEMENT

Residents of the small village of Kestle Cove say they feel cut off. The only shop in the village relies on daily deliveries, and its owner said the van had not arrived since Monday.
A temporary footpath has been opened so that pupils can still walk to the primary school.

ADVERTISEMENT

The council has asked the government for emergency funding to rebuild the wall before the winter tides. A spokesperson said repairs would be prioritised over the planned resurfacing of the town centre.
Local businesses have started a petition asking for a permanent flood barrier.

ADVERTISEMENT

Forecasters expect calmer weather over the weekend, although strong winds may return next week. Walkers have been warned to keep away from the cliff path until it has been checked.
Updates will be posted on the council website every morning.

ADVERTISEMENT"""

# A download page that lists its mirrors at the top and again at the bottom.
MIRRORS = """https://mirror.eu.lumen-editor.org/pub/releases/3.2/lumen-editor-3.2-universal-installer-x86_64.zip
https://ftp.uni-freiburg.example.de/pub/mirrors/lumen-editor/releases/3.2/lumen-editor-3.2-universal.zip
https://mirrors.pacific-net.example.jp/software/lumen-editor/stable/3.2/lumen-editor-3.2-universal.zip
https://downloads.lumen-editor.org/stable/releases/3.2/full/lumen-editor-3.2-universal-with-docs.zip"""
DOWNLOAD_PAGE = f"""Download Lumen Editor 3.2

Lumen Editor is a small, fast text editor for writers and programmers. Version 3.2 adds a distraction-free mode, better spell checking, a portable build that runs from a USB stick and an improved version of the command line tool.
Pick the mirror closest to you:

{MIRRORS}

Each archive contains the installer, the portable build, the command line tool and the release notes. Checksums are listed on the release page, so please verify them before running anything you have downloaded.
Older releases remain available on request from the maintainers.

Installation takes about a minute on most machines. On Windows, run the installer and follow the prompts. On Linux, unpack the archive and run the setup script inside it.
You can add the command line tool to your path during installation, or later from the preferences window.

The editor is free software released under the MIT licence. Bug reports and translations are always welcome, and the project forum is the best place to ask questions about plugins, themes and keyboard shortcuts.
Volunteers answer most questions within a day or two, and the documentation wiki is updated with every release.
If a download fails, try another mirror.

{MIRRORS}"""

# A newsletter whose three items each end with the same (long) donation link, after a "?", a "!"
# and a "." so that not even the bigram before the link repeats. 2 of 7 lines repeat (0.29).
DONATE = "https://www.greenvalleytrust.org/support/donate?campaign=spring-appeal-2024&utm_source=newsletter&utm_medium=email"
NEWSLETTER = f"""Green Valley Trust spring newsletter

This spring our volunteers cleared more than two kilometres of overgrown footpath along the river. We need to raise another five thousand pounds to buy tools for the summer season. Can you help us reach it?
{DONATE}

The barn owl boxes installed last winter are already in use. Two pairs have nested, and one has hatched four chicks. Every gift makes a difference!
{DONATE}

Finally, we are recruiting guides for the guided walks in May and June. No experience is needed, just enthusiasm and comfortable shoes. Thank you for your support.
{DONATE}"""

# Keyword stuffing: "Kuala Lumpur" 8 times, each time between different words.
HOTEL_SEO = (
    "Looking for a hotel in Kuala Lumpur? Our guide to Kuala Lumpur covers every neighbourhood, from Bukit Bintang "
    "to quiet Kuala Lumpur suburbs. Many travellers say Kuala Lumpur is cheaper than Singapore. Book early, because "
    "Kuala Lumpur fills up during school holidays. Getting around Kuala Lumpur is easy by train. Rooms near the "
    "Petronas Towers offer famous views across Kuala Lumpur at night. Compare prices and save on Kuala Lumpur hotels."
)

# Keyword stuffing with a 3-gram: "water damage restoration" 6 times in different 4-grams.
RESTORATION_SEO = (
    "Flooded basement? Our water damage restoration team is available around the clock across Greater Manchester. "
    "Fast water damage restoration prevents mould, rot and expensive structural repairs. We have completed water "
    "damage restoration in homes, offices, schools and warehouses since 2009. Every water damage restoration job "
    "starts with a free survey and a written quote. Insurance companies trust our water damage restoration "
    "specialists. Call now and book your water damage restoration appointment today."
)

# A phone review naming the product in full 4 times. Its first 3-gram, "Samsung Galaxy S24", is
# shorter than the 4-gram, so only the 4-gram rule fails.
PHONE_REVIEW = (
    "Is the Samsung Galaxy S24 Ultra worth the money? After three weeks of daily use, our verdict on Samsung's "
    "biggest phone is mostly positive. The camera is the real highlight: the new Samsung Galaxy S24 Ultra takes "
    "sharp photos even in dim restaurants. Battery life comfortably lasted two days. Owners of an older Samsung "
    "Galaxy S24 Ultra case will be disappointed, because the camera bump has moved slightly. If you already have "
    "last year's model, there is little reason to upgrade. Everyone else should consider buying a Samsung Galaxy "
    "S24 Ultra while launch discounts last."
)

# Three five-word agency names, each spelled out twice in different surroundings: repeated
# 5-grams cover 16% of the characters, but no 6-gram repeats.
CLIMATE_NEWS = (
    "Scientists at the National Oceanic and Atmospheric Administration said on Thursday that the past twelve "
    "months were the warmest since records began. The finding matches an analysis released by the National "
    "Aeronautics and Space Administration last week. Both agencies use ocean buoys, weather stations and "
    "satellites, but process the data differently. A separate assessment from the Intergovernmental Panel on "
    "Climate Change warned that coastal cities should prepare for faster sea level rise. Researchers outside "
    "National Aeronautics and Space Administration programmes broadly agreed. Former Intergovernmental Panel on "
    "Climate Change authors called the trend alarming. Data from National Oceanic and Atmospheric Administration "
    "buoys will be published next month."
)

# A slogan of exactly 10 tokens, said twice. The greedy scan covers all 10 tokens with one
# repeated 10-gram (11.9% > 10%) but only 9 of them with a 9-gram (10.4% <= 11%), and so on down.
MAYOR_SLOGAN = (
    "Mayor Helen Carter defended the new parking charges at a town hall meeting on Tuesday. She promised a "
    "cleaner, greener and more affordable public transport network within five years. Shop owners argue that "
    "the charges will drive customers away. A petition against the scheme has three thousand signatures. Carter "
    "refused to delay the start date. The money, she said, pays for a cleaner, greener and more affordable "
    "public transport network that everyone can use."
)


def test_comment_thread_with_some_repeated_lines_passes_every_rule():
    out = run_quality(COMMENTS)
    assert out.score("gopher_repetition", "dup_line_frac") == 4 / 16
    assert out.failures == []
    assert out.failed_rules == []


@pytest.mark.parametrize(
    "text, reason, setting",
    [
        (STORM_ARTICLE, R.DUP_PARAGRAPHS, "max_dup_para_frac"),
        (DOWNLOAD_PAGE, R.DUP_PARAGRAPH_CHARS, "max_dup_para_char_frac"),
        (COMMENTS_WITH_BUTTONS, R.DUP_LINES, "max_dup_line_frac"),
        (NEWSLETTER, R.DUP_LINE_CHARS, "max_dup_line_char_frac"),
        (HOTEL_SEO, R.TOP_NGRAM, "max_top_ngram_char_frac.2"),
        (RESTORATION_SEO, R.TOP_NGRAM, "max_top_ngram_char_frac.3"),
        (PHONE_REVIEW, R.TOP_NGRAM, "max_top_ngram_char_frac.4"),
        (CLIMATE_NEWS, R.DUP_NGRAMS, "max_dup_ngram_char_frac.5"),
        (MAYOR_SLOGAN, R.DUP_NGRAMS, "max_dup_ngram_char_frac.10"),
    ],
    ids=["dup_paragraphs", "dup_paragraph_chars", "dup_lines", "dup_line_chars", "top_2gram", "top_3gram", "top_4gram", "dup_5grams", "dup_10grams"],
)
def test_document_fails_exactly_one_rule(text, reason, setting):
    out = run_quality(text)
    assert out.failures == [(STAGE, reason)]
    assert out.failed_rules == [("gopher_repetition", setting)]


def test_n_gram_rules_name_their_n_in_the_detail():
    assert run_quality(HOTEL_SEO).verdicts["gopher_repetition"].detail.startswith("top_2gram_char_frac=")
    assert run_quality(PHONE_REVIEW).verdicts["gopher_repetition"].detail.startswith("top_4gram_char_frac=")
    assert run_quality(CLIMATE_NEWS).verdicts["gopher_repetition"].detail.startswith("dup_5gram_char_frac=")
    assert run_quality(MAYOR_SLOGAN).verdicts["gopher_repetition"].detail.startswith("dup_10gram_char_frac=")


def test_repeated_paragraph_chars_and_line_chars_differ_only_by_the_paragraphs_newlines():
    # A repeated paragraph's lines are repeated lines, so its characters count for both rules;
    # the paragraph also counts the newlines between its lines. The two rules (both 0.2) can
    # only be told apart by a document where 20% of the characters falls between the two: here
    # the 4 mirror lines (405 characters) and the paragraph (408) in a 2029-character page.
    out = run_quality(DOWNLOAD_PAGE)
    n = len(DOWNLOAD_PAGE)
    urls = sum(map(len, MIRRORS.splitlines()))
    assert out.score("gopher_repetition", "dup_line_char_frac") == urls / n <= 0.2
    assert out.score("gopher_repetition", "dup_para_char_frac") == len(MIRRORS) / n > 0.2


def test_short_unrepeated_text_fails_top_2gram_only_when_counting_unrepeated_ngrams():
    # "books" gets the repetition rules only ("*" in quality.apply). Counting an n-gram seen once
    # as a top n-gram (datatrove) rejects any text this short: its first bigram is "most frequent".
    title = "Collected letters of a lighthouse keeper, 1890 to 1925."
    assert run_quality(title, source="books").failures == []
    out = run_quality(title, source="books", cfg=config_with("gopher_repetition", top_ngram_counts_unrepeated=True))
    assert out.failures == [(STAGE, R.TOP_NGRAM)]
    assert out.verdicts["gopher_repetition"].detail.startswith("top_2gram_char_frac=")
    # "Collected letters" + "of a lighthouse" ... : the first n-gram of each n, counted once.
    assert out.score("gopher_repetition", "top_2gram_char_frac") == len("Collected letters") / len(title)


def test_a_rule_set_to_none_is_not_evaluated():
    out = run_quality(COMMENTS_WITH_BUTTONS, cfg=config_with("gopher_repetition", max_dup_line_frac=None))
    assert out.failures == []
    assert out.failed_rules == []


@pytest.mark.parametrize("text", [COMMENTS, COMMENTS_WITH_BUTTONS, STORM_ARTICLE], ids=["comments", "comments_with_buttons", "storm_article"])
def test_crlf_line_ends_count_lines_and_paragraphs_as_lf_does(text):
    lf, crlf = run_quality(text), run_quality(text.replace("\n", "\r\n"))
    for signal in ("dup_para_frac", "dup_line_frac"):
        assert crlf.score("gopher_repetition", signal) == lf.score("gopher_repetition", signal)
    assert crlf.failures == lf.failures


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n\t", max_size=80))
def test_the_newline_only_splits_equal_the_crlf_aware_ones(text):
    """Text without "\\r" takes the faster patterns; they must split exactly as the general ones."""
    assert gopher_repetition._PARAGRAPHS_LF.split(text.strip()) == gopher_repetition._PARAGRAPHS.split(text.strip())
    assert gopher_repetition._LINES_LF.split(text) == gopher_repetition._LINES.split(text)
