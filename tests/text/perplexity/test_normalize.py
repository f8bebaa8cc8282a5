"""The normalization shared by training and scoring."""

from hypothesis import given
from hypothesis import strategies as st

from pipeline.text.perplexity.normalize import normalize_line, normalize_lines


def test_ccnet_steps():
    assert normalize_line("Hello, World!") == "hello world"
    assert normalize_line("Élève naïve ÇA") == "eleve naive ca"  # accents stripped after lowercasing
    assert normalize_line("In 2024, 3.5% rose") == "in 0000 0 0 rose"  # every digit to 0
    assert normalize_line("«Très» — bien… ¿sí?") == "tres bien si"  # Unicode punctuation removed too
    assert normalize_line("١٢٣ arabic-indic digits") == "000 arabic indic digits"


def test_whitespace_and_controls():
    assert normalize_line("a\u00a0b\u2003c\t d") == "a b c d"  # every space becomes one ASCII space
    assert normalize_line("zero\u200bwidth\x07bell") == "zerowidthbell"  # format and control chars dropped
    assert normalize_line("  \t ") == ""


def test_lines_skip_blank_ones():
    assert normalize_lines("First line.\n\n  \nSecond: line\r\nthird") == ["first line", "second line", "third"]
    assert normalize_lines("") == []


@given(st.text())
def test_output_is_kenlm_safe_and_stable(text):
    for line in normalize_lines(text):
        # KenLM's query splits on ASCII whitespace and kenlm.Model.score on str.split(): the same
        # tokens only if the normalized line has single ASCII spaces and nothing else splits.
        assert line == line.strip() and "  " not in line
        assert line.split() == line.split(" ")
        assert normalize_line(line) == line  # idempotent


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_fast_paths_equal_the_plain_definition(text):
    """normalize_text's ASCII and per-run shortcuts give what the definition gives: lowercase,
    NFD of the whole text, then the full table on every character."""
    import unicodedata

    from pipeline.text.perplexity.normalize import _FULL_TABLE, normalize_text

    assert normalize_text(text) == unicodedata.normalize("NFD", text.lower()).translate(_FULL_TABLE)
