"""The word tokenizer every quality family reads (pipeline.text.words)."""

import pytest

from pipeline.text.words import is_word, tokenize


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("See https://example.com/a-b/c?d=1&e=2 now.", ["See", "https://example.com/a-b/c?d=1&e=2", "now", "."]),
        ("(http://localhost:8080/api/v1/items).", ["(", "http://localhost:8080/api/v1/items", ")."]),
        (
            "Docs: https://docs.python.org/3/library/re.html#module-re, then the rest.",
            ["Docs", ":", "https://docs.python.org/3/library/re.html#module-re", ",", "then", "the", "rest", "."],
        ),
    ],
    ids=["url_in_prose", "url_in_brackets", "url_with_fragment"],
)
def test_urls_stay_whole_without_trailing_punctuation(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("图书馆开放了。", ["图", "书", "馆", "开", "放", "了", "。"]),
        ("我爱Python编程", ["我", "爱", "Python", "编", "程"]),
        ("東京タワーへ行きました", ["東", "京", "タ", "ワ", "ー", "へ", "行", "き", "ま", "し", "た"]),
        ("カタカナ・ひらがな", ["カ", "タ", "カ", "ナ", "・", "ひ", "ら", "が", "な"]),  # the middle dot is punctuation
        ("한국어 텍스트", ["한국어", "텍스트"]),  # Hangul is written with spaces: words as usual
    ],
    ids=["chinese", "chinese_with_latin", "japanese", "kana_middle_dot", "korean"],
)
def test_cjk_characters_are_one_token_each(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("Wait... what?!", ["Wait", "...", "what", "?!"]),
        ("He left -- quietly.", ["He", "left", "--", "quietly", "."]),
        ("“Quoted,” she said…", ["“", "Quoted", ",”", "she", "said", "…"]),
        ("Price: $5 (approx.)", ["Price", ":", "$", "5", "(", "approx", ".)"]),
        ("#hashtag C# 5%", ["#", "hashtag", "C", "#", "5", "%"]),
    ],
)
def test_punctuation_runs_are_one_token(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("a well-known state-of-the-art tool", ["a", "well", "-", "known", "state", "-", "of", "-", "the", "-", "art", "tool"]),
        ("and/or 24/7", ["and", "/", "or", "24", "/", "7"]),
        ("don't e.g. 3.14 U.S.A. snake_case", ["don't", "e.g", ".", "3.14", "U.S.A", ".", "snake_case"]),
    ],
    ids=["hyphens_split", "slashes_split", "inner_punctuation_kept"],
)
def test_hyphens_and_slashes_split_words_other_inner_punctuation_does_not(text, tokens):
    assert tokenize(text) == tokens


def test_whitespace_only_text_has_no_tokens():
    assert tokenize("") == []
    assert tokenize(" \n\t ") == []


@pytest.mark.parametrize("token", ["hello", "Élan", "3", "3.14", "_private", "中", "カ", "https://example.com"])
def test_words_start_with_a_letter_digit_or_underscore(token):
    assert is_word(token)


@pytest.mark.parametrize("token", ["...", "?!", "—", "“", "#", "$", "。", "・"])
def test_punctuation_and_symbols_are_not_words(token):
    assert not is_word(token)


def test_every_token_of_prose_is_a_word_or_punctuation_run():
    text = "The bridge (opened in 1887) carries 12,000 cars a day — more than planned."
    tokens = tokenize(text)
    assert [t for t in tokens if is_word(t)] == [
        "The",
        "bridge",
        "opened",
        "in",
        "1887",
        "carries",
        "12,000",
        "cars",
        "a",
        "day",
        "more",
        "than",
        "planned",
    ]
    assert [t for t in tokens if not is_word(t)] == ["(", ")", "—", "."]
