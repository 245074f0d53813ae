"""How a name becomes comparable tokens: transliterated, folded, split, and each token weighed.

Non-Latin scripts are transliterated with ``anyascii`` (ISC licence, every script, one
deterministic table; ``unidecode`` is GPL and ``anyascii`` covers more scripts). Chinese,
Japanese and Korean characters are transliterated one by one so that each syllable stays a
token ("李明" -> "li ming").

Honorifics ("Dr", "Sheikh") and legal forms ("LLC", "GmbH") are kept for the explanation but
weigh nothing: they never make two names match. Generic business words ("Trading",
"International") and name particles ("al", "bin", "van") weigh little.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from itertools import groupby
from typing import NamedTuple

import jellyfish
from anyascii import anyascii

HONORIFICS = frozenset(
    """mr mrs ms miss mister madam dr doctor prof professor sir dame lord lady sheikh shaikh
    sheik cheikh haji hajji hadji mullah mulla maulana mawlana imam ayatollah general gen
    colonel col major maj captain capt lieutenant lt sergeant sgt admiral excellency his her
    hon honourable honorable rev reverend father brother sister eng engr""".split()
)
LEGAL_FORMS = frozenset(
    """llc ltd limited corp corporation inc incorporated co company cie gmbh mbh ag kg ohg ug
    sa sas sarl srl spa bv nv plc llp lp jsc pjsc ojsc cjsc ooo oao zao pao tov fze fzco fzc
    fzllc dmcc pte pty bhd sdn kft zrt doo dd ab oy asa aps se cv sab lda ltda spzoo sp zoo
    sl slu ehf""".split()
)
GENERIC = frozenset(
    """trading trade international intl group holding holdings global general industries
    industry industrial enterprise enterprises establishment est services service company
    investment investments import export imports exports shipping logistics commercial
    partners associates development management resources technologies technology solutions
    bank oil gas energy petroleum mining steel airlines airline insurance finance financial
    capital construction engineering the of and for et de la du des del y e""".split()
)
PARTICLES = frozenset(
    "al el ul bin ben ibn bint binti abu abd abdul ould van von der den da di dos das le".split()
)

HONORIFIC, LEGAL, GENERIC_WORD, PARTICLE, NAME = (
    "honorific",
    "legal form",
    "generic",
    "particle",
    "name",
)
WEIGHTS = {HONORIFIC: 0.0, LEGAL: 0.0, GENERIC_WORD: 0.35, PARTICLE: 0.3, NAME: 1.0}

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’`ʼʻ]")
_VOWEL_KEYS = frozenset("AEIOU")
# Transliteration variants folded together: Arabic and Cyrillic romanisations disagree on
# these, and they rarely tell two names apart.
_SKELETON_RULES = (
    ("ph", "f"),
    ("kh", "h"),
    ("gh", "g"),
    ("dh", "d"),
    ("th", "t"),
    ("ck", "k"),
    ("q", "k"),
    ("w", "v"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ie", "i"),
    ("ei", "i"),
    ("y", "i"),
    ("zh", "j"),
    ("j", "dj"),
    ("ddj", "dj"),
)
_NO_VOWELS = str.maketrans("", "", "aeiouy")


# Named tuples rather than frozen dataclasses: as immutable, and made in a third of the time
# (a new name makes three or four tokens, and a frozen dataclass sets each field through
# object.__setattr__).
class Token(NamedTuple):
    text: str  # folded ASCII
    kind: str  # NAME, GENERIC_WORD, PARTICLE, HONORIFIC, LEGAL
    weight: float
    skeleton: str  # transliteration variants folded
    key: str  # phonetic key of the skeleton (Metaphone)
    consonants: str  # the skeleton without vowels (for vowel-less romanisations of Arabic)


# Named tuples made through ``tuple.__new__``: a named tuple's own ``__new__`` is Python code,
# a frame for every token of every name screened.
_token_new = functools.partial(tuple.__new__, Token)


class PreparedName(NamedTuple):
    original: str
    tokens: tuple[Token, ...]
    # Each pair of adjacent tokens joined into one ("al amri" -> "alamri"), as a NAME token,
    # and their skeletons: computed once per name, so the matcher tries joins only when one
    # can help.
    joins: tuple[Token, ...]
    join_skeletons: frozenset[str]
    skeletons: frozenset[str]
    informative: tuple[Token, ...]  # the tokens that weigh, in order (read for every query)

    @property
    def looks_like_company(self) -> bool:
        return any(token.kind == LEGAL for token in self.tokens)


_prepared_new = functools.partial(tuple.__new__, PreparedName)


def transliterate(text: str) -> str:
    """ASCII of any script; CJK syllables kept apart."""
    if text.isascii():  # most names: nothing to normalise or transliterate
        return text
    out = []
    for char in unicodedata.normalize("NFC", text):
        if ord(char) < 128:
            out.append(char)
        elif _is_cjk(char):
            out.append(f" {anyascii(char)} ")
        else:
            out.append(anyascii(char))
    return "".join(out)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF


def skeleton(word: str) -> str:
    for old, new in _SKELETON_RULES:
        if old in word:  # most words hold few of the variants: a test costs less than a pass
            word = word.replace(old, new)
    previous = ""
    for char in word:  # a letter doubled: compiled, a loop costs a tenth of a regex search
        if char == previous:
            word = "".join([letter for letter, _ in groupby(word)])  # each run once
            break
        previous = char
    return word[:-1] if len(word) > 3 and word.endswith("h") else word


# Each word's kind in one look-up (a name, the commonest, is the default).
_KINDS = {
    **dict.fromkeys(GENERIC, GENERIC_WORD),
    **dict.fromkeys(PARTICLES, PARTICLE),
    **dict.fromkeys(LEGAL_FORMS, LEGAL),
    **dict.fromkeys(HONORIFICS, HONORIFIC),
}


# The caches below are sized for the words and names that recur (first names, common
# surnames, a bank's own customers), not for every party ever screened: everything a cache
# holds is walked by each full collection of the garbage collector, and a worker's full
# collections come as often as its caches churn (matching.index.ScreeningIndex.results keeps
# the parties themselves).
@functools.lru_cache(maxsize=32_768)
def token_make(word: str) -> Token:
    kind = _KINDS.get(word, NAME)
    return _token(word, kind)


def _token(word: str, kind: str) -> Token:
    skel = skeleton(word)
    key = jellyfish.metaphone(skel) if skel.isalpha() else skel
    if key[:1] in _VOWEL_KEYS:  # "Osama" and "Usama": romanisations disagree on the vowel
        key = "A" + key[1:]
    consonants = skel.translate(_NO_VOWELS)
    return _token_new((word, kind, WEIGHTS[kind], skel, key, consonants))


@functools.lru_cache(maxsize=256)  # joined pairs seldom recur
def _join_make(text: str) -> Token:
    """Two adjacent words joined ("al" + "amri"), as a name token."""
    return _token(text, NAME)


@functools.lru_cache(maxsize=256)  # a recurring party is answered by the index's results
def name_prepare(name: str) -> PreparedName:
    """The name's tokens in order. Apostrophes join ("O'Brien" -> "obrien"), any other
    punctuation separates ("Al-Amri" -> "al amri"); the matcher re-joins split tokens."""
    folded = transliterate(name).lower()
    words = _SEPARATORS.split(_APOSTROPHES.sub("", folded))
    # List comprehensions, not generators: compiled, a generator is an object and a resumed
    # frame per item.
    tokens = tuple([token_make(word) for word in words if word])
    # A name made only of low-weight words ("The Trading Company") is matched on those words.
    if tokens and not any([token.kind in (NAME, PARTICLE) for token in tokens]):
        tokens = tuple([_as_name(t) if t.kind == GENERIC_WORD else t for t in tokens])
    joins = tuple(
        [
            _join_make(first.text + second.text)
            for first, second in zip(tokens, tokens[1:], strict=False)
        ]
    )
    return _prepared_new(
        (
            name,
            tokens,
            joins,
            frozenset([token.skeleton for token in joins]),
            frozenset([token.skeleton for token in tokens if len(token.text) >= 4]),
            tuple([token for token in tokens if token.weight > 0]),
        )
    )


def _as_name(token: Token) -> Token:
    return _token_new((token.text, NAME, 1.0, token.skeleton, token.key, token.consonants))
