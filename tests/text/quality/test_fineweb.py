"""FineWeb's rules, measured on the text after C4 line cleaning: each fixture is a plausible web
page that fails exactly one rule of every family web text gets.

After the default C4 cleaning every line left ends in . ? ! " or ' and has at least 3 words, which
shapes what can fail here:
- few lines ending in punctuation: FineWeb counts . ? ! (and other scripts' terminals) but not
  quotes, so a page of quotations fails;
- list-like (newlines per token > 0.3): a kept line has at least 4 tokens (3 words and its final
  punctuation), so for space-separated text the ratio stays under 0.25. Only text C4 does not
  clean (Chinese, Japanese) can fail it: the fixture is a Chinese link directory.
"""

import pytest

from pipeline.text.quality import fineweb
from pipeline.text.quality.fineweb import FineWebReason as R
from tests.text.quality.helpers import config_with, run_quality

STAGE = fineweb.STAGE_ID

# A how-to article: a title C4 drops, then sentences of varied length.
CUTTINGS = """How to take lavender cuttings
Late summer is the best time to take cuttings from lavender, rosemary and other woody herbs. Choose healthy shoots without flowers and cut them just below a leaf joint.
Strip the lower leaves, dip the ends in rooting powder and push them into small pots of gritty compost.
Keep the pots in a bright spot out of direct sunlight and water them sparingly.
Most cuttings will root within six weeks. Once you see roots at the bottom of the pot, move the young plants to a cold frame for the winter and plant them out in spring."""

# The same article with a newsletter line at the top and the bottom: C4 keeps both copies.
CUTTINGS_WITH_SIGNUP = (
    "Subscribe to our newsletter for weekly gardening tips.\n"
    + CUTTINGS.split("\n", 1)[1]
    + "\nSubscribe to our newsletter for weekly gardening tips."
)

# Quotations, one per line, each ending in a closing quote: 1 line in 11 ends in "." (0.09).
QUOTES = """Ten quotes about reading that every book lover should know
"A reader lives a thousand lives before he dies. The man who never reads lives only one."
"There is no friend as loyal as a book, and no companion as patient on a rainy afternoon."
"Once you learn to read, you will be forever free. Nobody can take that away from you."
"Books are a uniquely portable magic. You can carry them anywhere and open them at any time."
"The more that you read, the more things you will know. The more that you learn, the more places you will go."
"Reading is to the mind what exercise is to the body. Both need to be practised every day."
"I have always imagined that paradise will be a kind of library, with long rooms and quiet corners."
"Think before you speak. Read before you think, and you will rarely regret what you say."
"So many books, so little time. That is the only complaint a true reader ever makes."
"A good book is an event in my life, and I still remember where I was when I finished each one."
Which of these is your favourite? Tell us in the comments below."""

# A recipe method, one short step per line: 10 of 12 lines have at most 30 characters.
TOMATO_SOUP = """Easy tomato soup for two
Ingredients are listed on the previous page.
Heat the oil in a pan.
Add the chopped onion.
Cook until soft and golden.
Stir in the crushed garlic.
Add the tomatoes and stock.
Season with salt and pepper.
Simmer for twenty minutes.
Blend until smooth.
Stir in the cream.
Serve with crusty bread.
Leftovers keep for three days in a covered container in the fridge."""

# A Chinese "friend links" page: one site per paragraph, a two-character label and its URL
# (3 tokens, 2 newlines each). Three of 17 lines end in "。"; the URLs keep the link lines long.
LINKS = [
    ("新闻", "news", "china/index"),
    ("财经", "finance", "stock/market"),
    ("体育", "sports", "football/league"),
    ("科技", "tech", "internet/mobile"),
    ("汽车", "auto", "newcar/reviews"),
    ("旅游", "travel", "domestic/guide"),
    ("美食", "food", "recipes/homestyle"),
    ("教育", "edu", "university/admission"),
    ("健康", "health", "medicine/daily"),
    ("读书", "books", "fiction/bestsellers"),
    ("音乐", "music", "chinese/charts"),
    ("电影", "movie", "cinema/showtimes"),
    ("游戏", "games", "mobile/rankings"),
    ("房产", "house", "beijing/listings"),
]
FRIEND_LINKS = "\n\n".join(
    ["以下是我们的友情链接。", "排名不分先后。"]
    + [f"{label} https://{host}.example.com.cn/{path}" for label, host, path in LINKS]
    + ["欢迎交换链接。"]
)


def test_article_passes_every_rule():
    out = run_quality(CUTTINGS)
    assert out.failures == []
    assert out.failed_rules == []


@pytest.mark.parametrize(
    "text, lang, reason, setting",
    [
        (QUOTES, "en", R.FEW_LINES_END_IN_PUNCT, "min_line_punct_ratio"),
        (TOMATO_SOUP, "en", R.SHORT_LINES, "max_short_line_ratio"),
        (CUTTINGS_WITH_SIGNUP, "en", R.DUP_LINE_CHARS, "max_dup_line_char_ratio"),
        (FRIEND_LINKS, "zh", R.LIST_LIKE, "max_list_ratio"),
    ],
    ids=["few_lines_end_in_punctuation", "short_lines", "dup_line_chars", "list_like"],
)
def test_document_fails_exactly_one_rule(text, lang, reason, setting):
    out = run_quality(text, lang=lang)
    assert out.failures == [(STAGE, reason)]
    assert out.failed_rules == [("fineweb", setting)]


def test_signals_are_measured_on_the_cleaned_text():
    # The quotations page's title has no punctuation: C4 as the paper runs it drops it before
    # FineWeb counts lines.
    paper_c4 = config_with("c4", drop_lines_without_terminal_punct=True)
    out = run_quality(QUOTES, cfg=paper_c4)
    assert out.doc.text == QUOTES.split("\n", 1)[1]
    assert out.score("fineweb", "line_punct_ratio") == 1 / 11
    # Cleaning shortened the page: its duplicate signup line is a share of what is left.
    out = run_quality(CUTTINGS_WITH_SIGNUP, cfg=paper_c4)
    line = "Subscribe to our newsletter for weekly gardening tips."
    text = out.doc.text
    assert out.score("fineweb", "dup_line_char_ratio") == len(line) / (len(text) - text.count("\n"))


def test_a_rule_set_to_none_is_not_evaluated():
    out = run_quality(TOMATO_SOUP, cfg=config_with("fineweb", max_short_line_ratio=None))
    assert out.failures == []
    assert out.failed_rules == []


def test_short_line_length_is_a_setting():
    out = run_quality(TOMATO_SOUP, cfg=config_with("fineweb", short_line_length=20))
    assert out.failures == []


def test_crlf_lines_end_in_their_punctuation():
    # Chinese text is not rewritten by C4 cleaning, so FineWeb sees its line ends as they came.
    news = "\r\n".join(["图书馆周一上午开放了新的阅览室。", "读者现在可以借书四周，而不是两周。", "工作人员还在星期四增加了晚间开放时间。"] * 2)
    out = run_quality(news, lang="zh")
    assert out.score("fineweb", "line_punct_ratio") == 1
