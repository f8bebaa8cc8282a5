"""Stop words per language for Gopher's "at least two stop words" rule.

Gopher (Rae et al. 2021) names eight English words: the, be, to, of, and, that, have, with.
For other languages these are the same kind of words: the most frequent articles,
prepositions, conjunctions and forms of "to be"/"to have", so that ordinary running text of the
language has at least two of them in almost any paragraph while lists, tables and keyword spam do
not. For Chinese and Japanese, whose words are counted as characters, they are the commonest
function characters. A language missing here has no stop-word rule: it is skipped and counted.
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the be to of and that have with",
        "de": "der die das und zu von mit sein ist nicht den",
        "fr": "le la les de des et être avoir que est un une",
        "es": "el la los de que y en ser es un una con",
        "it": "il la di che e è essere avere un una con per",
        "pt": "o a os de que e em ser é um uma com",
        "nl": "de het een van en in is dat op te zijn met",
        "pl": "i w nie na się z do że to jest jak o",
        "cs": "a se na je v že to do s z jsem o",
        "ru": "и в не на что с по это как быть к из",
        "zh": "的 了 是 在 和 有 不 这 我 他",
        "ja": "の に は を た が で て と し",
    }.items()
}
