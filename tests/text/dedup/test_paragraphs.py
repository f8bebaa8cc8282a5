"""CCNet-style repeated-paragraph removal (pipeline.text.dedup.paragraphs): normalisation,
per-document hash sets, and byte-exact removal of dropped lines."""

import hashlib

from pipeline.text.dedup.paragraphs import line_hash, normalize_line, paragraph_hashes, remove_paragraphs


def test_normalization_collapses_case_digits_whitespace_and_punctuation():
    assert normalize_line("Copyright 2021 ACME") == normalize_line("copyright 2023 acme.") == "copyright 0000 acme"
    assert line_hash("Copyright 2021 ACME") == line_hash("copyright 2023 acme.")
    assert normalize_line("  Home  |  About\tus  » ") == "home about us"
    assert normalize_line("© 2019–2024 Straße, Inc.") == "00000000 strasse inc"  # symbols, dashes gone
    assert normalize_line("STRASSE") == normalize_line("Straße")  # casefold, not lower
    assert normalize_line("Cafe\u0301") == normalize_line("Café")  # NFC
    assert normalize_line("zero\u200bwidth soft\u00adhyphen") == "zerowidth softhyphen"
    assert normalize_line("٣ apples") == "0 apples"  # any decimal digit


def test_normalization_keeps_words_and_combining_marks_apart():
    assert line_hash("Accept cookies") != line_hash("Reject cookies")
    assert normalize_line("नमस्ते दुनिया") == "नमस्ते दुनिया"  # vowel signs (Mn/Mc) stay
    assert line_hash("कि") != line_hash("क")


def test_hash_is_blake2b_of_normalized_line():
    expected = int.from_bytes(hashlib.blake2b(b"copyright 0000 acme", digest_size=8).digest(), "little")
    assert line_hash("Copyright 2021, ACME!") == expected
    assert 0 <= expected < 2**64


def test_empty_lines_are_not_paragraphs():
    assert line_hash("") is None and line_hash("   \t") is None and line_hash("* * * — ...") is None
    assert paragraph_hashes("\n\n  \n---\n") == []
    assert paragraph_hashes("") == []


def test_paragraph_hashes_once_per_document_sorted():
    text = "Share this\nFirst paragraph.\nshare THIS!\n\nSecond paragraph.\nShare this"
    hashes = paragraph_hashes(text)
    assert hashes == sorted(hashes)
    assert len(hashes) == len(set(hashes)) == 3
    assert set(hashes) == {line_hash("Share this"), line_hash("First paragraph."), line_hash("Second paragraph.")}
    assert paragraph_hashes(text) == hashes  # deterministic


def test_remove_paragraphs_removes_exactly_the_lines_and_counts():
    text = "Menu\nKeep one.\nmenu!\n\nKeep two.\nMENU"
    out, lines, chars = remove_paragraphs(text, {line_hash("Menu")})
    assert out == "Keep one.\n\nKeep two.\n"
    assert lines == 3
    assert chars == len("Menu\n") + len("menu!\n") + len("MENU") == len(text) - len(out)


def test_remove_paragraphs_keeps_crlf_indentation_and_blank_lines():
    text = "  Indented keep\r\nDrop me\r\n\r\n\tTabbed keep  \r\n"
    out, lines, chars = remove_paragraphs(text, {line_hash("drop me")})
    assert out == "  Indented keep\r\n\r\n\tTabbed keep  \r\n"
    assert (lines, chars) == (1, len("Drop me\r\n"))


def test_text_without_dropped_lines_is_unchanged():
    text = "Título\r\n\n  spaces  \n\n\nLast line without newline"
    drop = {line_hash("not in the text"), line_hash("other")}
    assert remove_paragraphs(text, drop) == (text, 0, 0)
    assert remove_paragraphs(text, set()) == (text, 0, 0)
    assert remove_paragraphs(text, frozenset()) == (text, 0, 0)
    out, _, _ = remove_paragraphs(text + "\n", drop)
    assert out == text + "\n"


def test_blank_lines_never_removed_even_if_hash_of_empty_in_drop():
    empty_hash = int.from_bytes(hashlib.blake2b(b"", digest_size=8).digest(), "little")
    text = "a\n\n\nb"
    assert remove_paragraphs(text, {empty_hash}) == (text, 0, 0)


def test_everything_removed():
    text = "x\ny\n"
    out, lines, chars = remove_paragraphs(text, set(paragraph_hashes(text)))
    assert (out, lines, chars) == ("", 2, 4)  # each line went with its own break


PAGE_A = """Home | News | Sport | Weather | Contact
Search
Local council approves new cycling lanes
The city council voted on Tuesday to build 12 kilometres of protected cycling lanes by 2026.
Supporters say the lanes will cut traffic and make streets safer for children.

Opponents argued that the cost, estimated at 4.5 million euros, was too high.
We use cookies to improve your experience. Accept all cookies?
Share on Facebook
© 2024 Daily Gazette. All rights reserved.
Privacy Policy | Terms of Use"""

PAGE_B = """HOME | NEWS | SPORT | WEATHER | CONTACT
Search
Harbour festival returns after five years
Boats, music and food stalls will line the harbour for three days.
We use cookies to improve your experience.  Accept all cookies!
Share on facebook
© 2023 Daily Gazette - All Rights Reserved
Privacy policy | Terms of use"""


def test_realistic_page_keeps_its_article():
    # Hashes counted over a corpus: a paragraph in >= 2 documents goes to the drop set.
    from collections import Counter

    counts = Counter(h for page in (PAGE_A, PAGE_B) for h in paragraph_hashes(page))
    drop = frozenset(h for h, c in counts.items() if c >= 2)
    out, lines, chars = remove_paragraphs(PAGE_A, drop)
    assert out == (
        "Local council approves new cycling lanes\n"
        "The city council voted on Tuesday to build 12 kilometres of protected cycling lanes by 2026.\n"
        "Supporters say the lanes will cut traffic and make streets safer for children.\n"
        "\n"
        "Opponents argued that the cost, estimated at 4.5 million euros, was too high.\n"
    )
    assert lines == 6  # menu, search, cookie notice, share, copyright, privacy/terms
    assert chars == len(PAGE_A) - len(out)
    out_b, lines_b, _ = remove_paragraphs(PAGE_B, drop)
    assert out_b == "Harbour festival returns after five years\nBoats, music and food stalls will line the harbour for three days.\n"
    assert lines_b == 6
