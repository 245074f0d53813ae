"""Every distinct token of an index, numbered once at build time, so the pre-filter asks "which
of these few tokens could this query token match?" once per query token, instead of once per
(candidate, token) pair.

A pair can reach a match only by an equality (skeleton, a nickname, vowel-less consonants, all
but a first vowel) or by a spelling close enough, which is lower when the phonetic keys agree
(``scoring.spelling_floor``). The equalities are set look-ups here; the spellings are one
rapidfuzz call over the tokens that are left, and Jaro-Winkler only past each one's Indel
floor. The answer is ``_could_match``'s (perhaps a few more): the caller decides each pair it
keeps by the full measure at once (``scoring.tokens_match_measured``).
"""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Indel

from .names import Token
from .nicknames import NICKNAMES
from .scoring import (
    PHONETIC_SPELLING_FLOOR,
    TOKEN_MATCH,
    has_vowel,
    spelling_indel_floor,
    spelling_may_reach,
)

_Table = dict[str, list[int] | frozenset[int]]


class Vocabulary:
    """Token texts to ids, with the look-ups ``could_match`` needs (a token is a function of
    its text as far as similarity goes: ``token_similarity`` caches by text)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.tokens: list[Token] = []
        self.skeletons: list[str] = []  # by id, for rapidfuzz's batch calls
        # Frozen sets once built (``freeze``), so a small set intersects them in its own time.
        self._skeletons: _Table = {}
        self._keys: _Table = {}
        self._consonants: _Table = {}
        self._vowelless: _Table = {}  # the consonants of tokens without a vowel only
        self._vowel_tails: _Table = {}  # all but the first letter, of tokens starting with one
        self._nicknames: set[int] = set()

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, token: Token) -> int:
        found = self.ids.get(token.text)
        if found is not None:
            return found
        number = self.ids[token.text] = len(self.tokens)
        self.tokens.append(token)
        self.skeletons.append(token.skeleton)
        text = token.text
        self._skeletons.setdefault(token.skeleton, []).append(number)
        self._keys.setdefault(token.key, []).append(number)
        self._consonants.setdefault(token.consonants, []).append(number)
        if not has_vowel(text):
            self._vowelless.setdefault(token.consonants, []).append(number)
        if text[0] in "aeiou":
            self._vowel_tails.setdefault(text[1:], []).append(number)
        if text in NICKNAMES:
            self._nicknames.add(number)
        return number

    def freeze(self) -> None:
        """Done adding. The skeletons are made again side by side in memory, in id order: a
        query reads a few dozen of them at random, and where they were made, among the
        build's millions of objects, each read was a cache miss."""
        remade = "\n".join(self.skeletons).split("\n")
        if len(remade) == len(self.skeletons):  # folded tokens hold no line break
            self.skeletons = remade
        for table in (
            self._skeletons,
            self._keys,
            self._consonants,
            self._vowelless,
            self._vowel_tails,
        ):
            for value, numbers in table.items():
                table[value] = frozenset(numbers)

    def could_match(self, token: Token, among: set[int]) -> set[int]:
        """The ids in ``among`` that ``_could_match(token, ...)`` would not turn away (and
        perhaps a few more): ``spelling_floor``, as set look-ups. Tokens too short to match
        but by an equality are not set apart first: probing the large sets of short tokens
        cost more than measuring the few that are asked about."""
        text = token.text
        same = among.intersection(self._skeletons.get(token.skeleton, ()))
        if len(text) <= 1:
            return same
        if text in NICKNAMES:
            return set(among)
        found = among & self._nicknames
        if token.consonants:
            consonants = self._vowelless if has_vowel(text) else self._consonants
            found |= among.intersection(consonants.get(token.consonants, ()))
        if len(text) <= 3:
            return same | found
        if text[0] in "aeiou":
            found |= among.intersection(self._vowel_tails.get(text[1:], ()))
        rest = among.difference(same, found)
        if rest:
            keyed = rest.intersection(self._keys.get(token.key, ()))
            found |= self._spelling(token, list(rest), keyed)
        return same | found

    def _spelling(self, token: Token, numbers: list[int], keyed: set[int]) -> set[int]:
        """Those of ``numbers`` whose spelling may reach the floor: the phonetic one for the
        ``keyed`` (the same phonetic key), TOKEN_MATCH for the others. One rapidfuzz call at
        the lower floor's Indel cut-off, each kept at its own floor by ``spelling_may_reach``
        (which tests the Indel floor first)."""
        skeletons, text = self.skeletons, token.skeleton
        close = process.extract(
            text,
            [skeletons[number] for number in numbers],
            scorer=Indel.normalized_similarity,
            score_cutoff=spelling_indel_floor(PHONETIC_SPELLING_FLOOR if keyed else TOKEN_MATCH),
            limit=None,
        )
        found = set()
        for skeleton, indel, position in close:
            number = numbers[position]
            floor = PHONETIC_SPELLING_FLOOR if number in keyed else TOKEN_MATCH
            if spelling_may_reach(text, skeleton, indel, floor):
                found.add(number)
        return found
