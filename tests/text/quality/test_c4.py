"""C4: line cleaning (exact cleaned text and what it removed) and the three document rules, each
failed by a plausible web page that passes every other rule of every family web text gets."""

import base64
import random

import pytest

from pipeline.records import Document
from pipeline.stages.quality import CleanC4Lines, ScoreQuality
from pipeline.text.quality import c4
from pipeline.text.quality.c4 import C4Reason as R
from pipeline.text.quality.c4 import count_sentences
from tests.text.quality.helpers import config_with, run_quality

STAGE = c4.STAGE_ID

FESTIVAL = [
    "The harbour festival returns this weekend after a two-year break, with music, food stalls and boat races.",
    "Organisers expect about twenty thousand visitors on Saturday, so arrive early if you can.",
    "Boat races begin at noon from the slipway beside the old fish market. Spectators can watch from the harbour wall.",
    "Local restaurants will serve seafood from stalls along the quay until late in the evening.",
]
# A tracking link in an email: one "word" of more than 1000 characters.
TRACKING_URL = "https://links.example-mail.com/click?upn=" + base64.urlsafe_b64encode(random.Random(3).randbytes(900)).decode()

# (line added after the first festival line, what cleaning keeps of it or None)
LINE_CASES = {
    "no_terminal_punctuation": ("Home | What's on | Tickets | Contact", None),
    "fewer_than_3_words": ("Sold out!", None),
    "javascript": ("Please enable JavaScript in your browser to see the festival map.", None),
    "cookie_policy": ("This site uses cookies to improve your experience.", None),
    "privacy_policy": ("Read our privacy policy and terms of use before you buy tickets.", None),
    "word_over_1000_chars": (f"Track your ticket order here: {TRACKING_URL} .", None),
    "ellipsis_is_not_terminal": ("The fireworks start at ten and last until...", None),
    "unicode_ellipsis_is_not_terminal": ("The fireworks start at ten and last until…", None),
    "numbered_citation": (
        "The swing bridge over the inner harbour was first opened to traffic in 1887.[3]",
        "The swing bridge over the inner harbour was first opened to traffic in 1887.",
    ),
    "citation_needed": (
        "It was designed by the same engineer as the lighthouse on the north pier.[citation needed]",
        "It was designed by the same engineer as the lighthouse on the north pier.",
    ),
    "citation_inside_a_line": (
        "The swing bridge[3] over the inner harbour was rebuilt in 1921 after a storm.",
        "The swing bridge over the inner harbour was rebuilt in 1921 after a storm.",
    ),
    "edit_link_then_no_punctuation": ("History[edit]", None),
    "quote_is_terminal": ('The mayor called it "the best weekend of the year."', 'The mayor called it "the best weekend of the year."'),
    "surrounding_spaces_stripped": ("   Tickets are available at the harbour office.  ", "Tickets are available at the harbour office."),
}


def paper_c4(**changes):
    """C4 as the paper runs it: lines must end in terminal punctuation (our default, like
    FineWeb's C4 step, does not ask that)."""
    return config_with("c4", **{"drop_lines_without_terminal_punct": True, **changes})


def _clean(text: str, cfg=None):
    out = run_quality(text, cfg=cfg or paper_c4())
    return out.doc.text, out.score("c4", "lines_removed"), out.score("c4", "chars_removed")


@pytest.mark.parametrize("case", LINE_CASES)
def test_line_cleaning(case):
    line, kept = LINE_CASES[case]
    text = "\n".join([FESTIVAL[0], line, *FESTIVAL[1:]])
    expected = "\n".join([FESTIVAL[0], *([kept] if kept is not None else []), *FESTIVAL[1:]])
    cleaned, lines_removed, chars_removed = _clean(text)
    assert cleaned == expected
    assert lines_removed == (0 if kept is not None else 1)
    assert chars_removed == len(text) - len(expected)


# A whole page: navigation, boilerplate, citations and teasers around the article.
PAGE = """Home | What's on | Tickets | Contact
Harbour festival returns

The harbour festival returns this weekend after a two-year break, with music, food stalls and boat races.
Please enable JavaScript in your browser to see the festival map.
The swing bridge over the inner harbour was first opened to traffic in 1887.[3] It was designed by the same engineer as the lighthouse on the north pier.[citation needed]
Organisers expect about twenty thousand visitors on Saturday, so arrive early if you can.
Fireworks start at ten...
Sold out!
Boat races begin at noon from the slipway beside the old fish market. Spectators can watch from the harbour wall.
The mayor called it "the best weekend of the year."
This site uses cookies to improve your experience.
Share this"""
PAGE_CLEANED = """The harbour festival returns this weekend after a two-year break, with music, food stalls and boat races.
The swing bridge over the inner harbour was first opened to traffic in 1887. It was designed by the same engineer as the lighthouse on the north pier.
Organisers expect about twenty thousand visitors on Saturday, so arrive early if you can.
Boat races begin at noon from the slipway beside the old fish market. Spectators can watch from the harbour wall.
The mayor called it "the best weekend of the year.\""""


def test_page_is_cleaned_to_its_article_and_passes_every_rule():
    out = run_quality(PAGE, cfg=paper_c4())
    assert out.doc.text == PAGE_CLEANED
    assert out.score("c4", "lines_removed") == 8  # of 13 (the blank line counts too)
    assert out.score("c4", "chars_removed") == len(PAGE) - len(PAGE_CLEANED)
    assert out.score("c4", "sentences") == 7
    assert out.failures == []
    assert out.failed_rules == []


def test_clean_lines_false_measures_but_keeps_the_text():
    out = run_quality(PAGE, cfg=paper_c4(clean_lines=False))
    assert out.doc.text == PAGE
    assert out.score("c4", "lines_removed") == 8
    assert out.score("c4", "chars_removed") == len(PAGE) - len(PAGE_CLEANED)


@pytest.mark.parametrize(
    "setting, line",
    [
        ("drop_lines_without_terminal_punct", "Home | What's on | Tickets | Contact"),
        ("drop_javascript_lines", "Please enable JavaScript in your browser to see the festival map."),
        ("drop_policy_lines", "This site uses cookies to improve your experience."),
        ("remove_citations", "The swing bridge[3] over the inner harbour was rebuilt in 1921 after a storm."),
    ],
)
def test_each_line_rule_can_be_switched_off(setting, line):
    text = "\n".join([FESTIVAL[0], line, *FESTIVAL[1:]])
    cleaned, lines_removed, chars_removed = _clean(text, cfg=paper_c4(**{setting: False}))
    assert (cleaned, lines_removed, chars_removed) == (text, 0, 0)


def test_a_citation_at_the_end_of_a_line_is_removed_before_the_punctuation_check():
    line = "The swing bridge over the inner harbour was first opened to traffic in 1887.[3]"
    text = "\n".join([FESTIVAL[0], line, *FESTIVAL[1:]])
    assert _clean(text)[0] == "\n".join([FESTIVAL[0], line.removesuffix("[3]"), *FESTIVAL[1:]])
    # Kept, the citation is what the line ends with, so the line goes.
    assert _clean(text, cfg=paper_c4(remove_citations=False)) == ("\n".join(FESTIVAL), 1, len(line) + 1)


def test_clean_c4_lines_replaces_the_text_and_keeps_the_scores():
    cfg = paper_c4()
    [doc] = ScoreQuality(cfg).annotate([Document(id="p", text=PAGE, source="web", lang="en")])
    [cleaned] = CleanC4Lines(cfg).annotate([doc])
    assert cleaned.text == PAGE_CLEANED
    assert doc.scores.items() <= cleaned.scores.items()


def test_sentences_are_counted_as_spacy_splits_them():
    assert count_sentences("Wait... what? Yes. Fine!")[0] == 3  # "..." does not end a sentence
    assert count_sentences("The span is 3.14 metres wide. It opens twice a day.")[0] == 2  # "3.14" is one token
    assert count_sentences("No terminal punctuation at all")[0] == 1


def test_sentences_never_run_across_lines_and_tokens_are_counted_without_breaks():
    # Line 1 ends in "." and line 2 starts with a word: still one sentence per line.
    assert count_sentences("It rained all day.\nWe stayed in.") == (2, 9)
    assert count_sentences("One. Two.\nThree") == (3, 5)


# A dentist's site built from a template that still has its placeholder paragraph.
DENTIST = """Welcome to Harbourside Dental Care

Our friendly team has looked after families in the harbour district for more than twenty years. We offer check-ups, hygiene appointments, fillings and emergency treatment six days a week.
New patients are always welcome, and most appointments can be booked within a few days.
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.
Parking is available behind the building, and the practice is step-free throughout. Please arrive ten minutes early for your first visit so that we can complete your medical history."""

# A help page that shows a template placeholder in braces.
NEWSLETTER_HELP = """How to personalise your email campaigns

Most newsletter tools let you insert the subscriber's name automatically. In our editor, type {first_name} wherever you want the name to appear, for example at the start of the greeting.
If a subscriber has not given a name, the tool falls back to a neutral greeting such as "Hello there".
You can preview the result for any contact before sending. We recommend checking at least three different contacts, because imported lists often contain names in capital letters or with stray spaces.
Personalised subject lines tend to improve open rates, but overusing them can make messages feel automated."""

# 89 words in three long sentences.
COMMITTEE = (
    "The committee met on Thursday evening to discuss the proposed extension of the cycle lane along the canal "
    "towpath, which has been debated for almost three years without any agreement between the council and the "
    "waterways trust. Several residents spoke in favour of the plan, arguing that the current route forces "
    "cyclists onto a busy road where two serious accidents have happened since January. Opponents said that "
    "widening the towpath would destroy hedgerows that shelter nesting birds, and they asked for an independent "
    "ecological survey before any work begins."
)


@pytest.mark.parametrize(
    "text, reason, setting",
    [
        (DENTIST, R.LOREM_IPSUM, "forbid_lorem_ipsum"),
        (NEWSLETTER_HELP, R.CURLY_BRACKET, "forbid_curly_bracket"),
        (COMMITTEE, R.TOO_FEW_SENTENCES, "min_sentences"),
    ],
    ids=["lorem_ipsum", "curly_bracket", "too_few_sentences"],
)
def test_document_fails_exactly_one_rule(text, reason, setting):
    out = run_quality(text)
    assert out.failures == [(STAGE, reason)]
    assert out.failed_rules == [("c4", setting)]


def test_lorem_ipsum_and_curly_bracket_rules_can_be_switched_off():
    assert run_quality(DENTIST, cfg=config_with("c4", forbid_lorem_ipsum=False)).failures == []
    assert run_quality(NEWSLETTER_HELP, cfg=config_with("c4", forbid_curly_bracket=False)).failures == []
    assert run_quality(COMMITTEE, cfg=config_with("c4", min_sentences=None)).failures == []


CHINESE_NEWS = (
    "图书馆周一上午开放了新的阅览室。读者现在可以借书四周，而不是两周，工作人员还在星期四增加了晚间开放时间。\n"
    "市议会用去年春天批准的一笔拨款支付了装修费用。当地学校已经为他们的班级预约了参观。\n"
    "据馆长说，最受欢迎的是旅行指南和地图的书架"
)


def test_chinese_has_no_c4_definition_so_its_rules_are_skipped_and_the_text_kept():
    out = run_quality(CHINESE_NEWS, lang="zh")
    assert out.verdicts["c4"].reason is None
    assert out.verdicts["c4"].skipped == ("forbid_lorem_ipsum", "forbid_curly_bracket", "min_sentences")
    assert not any(key.startswith(STAGE) for key in out.doc.scores)
    assert out.doc.text == CHINESE_NEWS  # its last line has no terminal punctuation, yet stays
    assert out.failures == []


def test_default_keeps_lines_without_terminal_punctuation_as_fineweb_did():
    text = "\n".join([FESTIVAL[0], "Home | What's on | Tickets | Contact", *FESTIVAL[1:]])
    assert run_quality(text).doc.text == text
