"""Every distinct token of an index, numbered once at build time, so the pre-filter asks "which
of these few tokens could this query token match?" once per query token, instead of once per
(candidate, token) pair.

A pair can reach a match only by an equality (skeleton, phonetic key, consonants, all but the
first letter, a nickname) or by a spelling close enough (``scoring._could_match``). The
equalities are dictionary look-ups here; the spelling is one rapidfuzz call over the tokens
that are left. The answer is a superset of ``_could_match``: the caller still decides each
pair it keeps with ``tokens_match``.
"""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Indel

from .names import Token
from .nicknames import NICKNAMES
from .scoring import SPELLING_INDEL_FLOOR

# rapidfuzz's batch scorer may round differently from the single call in _could_match at the
# floor itself: a hair lower only keeps a pair more, which tokens_match then decides.
_INDEL_CUTOFF = SPELLING_INDEL_FLOOR - 1e-9


class Vocabulary:
    """Token texts to ids, with the look-ups ``could_match`` needs (a token is a function of
    its text as far as similarity goes: ``token_similarity`` caches by text)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.tokens: list[Token] = []
        # Tuples once built (``freeze``): the garbage collector skips tuples of ints, not sets.
        self._skeletons: dict[str, list[int] | tuple[int, ...]] = {}
        self._keys: dict[str, list[int] | tuple[int, ...]] = {}
        self._consonants: dict[str, list[int] | tuple[int, ...]] = {}
        self._tails: dict[str, list[int] | tuple[int, ...]] = {}
        self._nicknames: set[int] = set()
        self._short: set[int] = set()  # one letter: only an equal skeleton can match it

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, token: Token) -> int:
        found = self.ids.get(token.text)
        if found is not None:
            return found
        number = self.ids[token.text] = len(self.tokens)
        self.tokens.append(token)
        self._skeletons.setdefault(token.skeleton, []).append(number)
        self._keys.setdefault(token.key, []).append(number)
        self._consonants.setdefault(token.consonants, []).append(number)
        self._tails.setdefault(token.text[1:], []).append(number)
        if token.text in NICKNAMES:
            self._nicknames.add(number)
        if len(token.text) <= 1:
            self._short.add(number)
        return number

    def freeze(self) -> None:
        """Done adding: the look-ups become tuples."""
        for table in (self._skeletons, self._keys, self._consonants, self._tails):
            for value, numbers in table.items():
                table[value] = tuple(numbers)

    def could_match(self, token: Token, among: set[int]) -> set[int]:
        """The ids in ``among`` that ``_could_match(token, ...)`` would not turn away (and
        perhaps a few more at the spelling floor)."""
        same = among.intersection(self._skeletons.get(token.skeleton, ()))
        if len(token.text) <= 1:
            return same
        rest = among - same - self._short
        if token.text in NICKNAMES:
            return same | rest
        found = rest & self._nicknames
        found.update(
            rest.intersection(self._keys.get(token.key, ())),
            rest.intersection(self._consonants.get(token.consonants, ())),
            rest.intersection(self._tails.get(token.text[1:], ())),
        )
        spell = [number for number in rest if number not in found]
        if spell:
            close = process.extract(
                token.skeleton,
                [self.tokens[number].skeleton for number in spell],
                scorer=Indel.normalized_similarity,
                score_cutoff=_INDEL_CUTOFF,
                limit=None,
            )
            found.update(spell[position] for _, _, position in close)
        return same | found
