"""Candidate retrieval: an in-memory index of every listed name, by block keys, so screening a
name scores a handful of candidates instead of the whole list.

Each name token is filed under three blocks: its phonetic key (Metaphone of the
transliteration skeleton) and its skeleton's first and last three letters (which survive typos
the key does not); adjacent tokens joined ("al amri" as "alamri") are filed under their
phonetic key, and a nickname also under its formal name's blocks. A candidate must share
blocks with two of the query's tokens, or be a one-word name when the query has one name
word: a shared first name alone never scores, so "Mohammed" does not pull in every Mohammed
on the list. One index per process, rebuilt when a list changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from .names import NAME, PARTICLE, PreparedName, Token, name_prepare, token_make
from .nicknames import NICKNAMES
from .scoring import (
    WEAK_ALIAS_FACTOR,
    Adjustment,
    Match,
    Shape,
    attributes_adjust,
    joins_meet,
    name_shape,
    names_compare,
    names_may_match,
    score_ceiling,
    tokens_match,
)
from .vocabulary import Vocabulary

REPORT_FLOOR = 0.6  # matches below this are not worth returning
# A ceiling a hair under the floor keeps a candidate whose score might round onto it.
CEILING_FLOOR = REPORT_FLOOR - 1e-9
MAX_CANDIDATES = 300
# Under this many candidates, testing each pair costs less than the vocabulary's set-up.
FEW_CANDIDATES = 4
MAX_MATCHES = 5


@dataclass(frozen=True, slots=True)
class ListedName:
    """One name of one entry, with what scoring needs of the entry."""

    entry_id: int
    list_name: str
    list_kind: str
    entry_type: str
    name: str
    strength: str
    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    """Who is screened: a name and what else is known of them (all optional)."""

    name: str
    country: str = ""
    birth_date: str = ""
    entry_type: str = ""  # person or entity, when known


def party_key(name: str, country: str = "") -> str:
    """A party's identity for remembered decisions: its name's tokens and its country, so a
    changed name or country is a new party."""
    return f"{' '.join(t.text for t in name_prepare(name).tokens)}|{country.upper()}"[:250]


def _blocks(token: Token) -> tuple[str, ...]:
    keys = [f"m{token.key}", f"s{token.skeleton[:3]}", f"e{token.skeleton[-3:]}"]
    if token.text in NICKNAMES:
        formal = token_make(NICKNAMES[token.text])
        keys += [f"m{formal.key}", f"s{formal.skeleton[:3]}"]
    if not any(char in "aeiou" for char in token.text):
        keys.append(f"c{token.consonants}")
    return tuple(keys)


def _blocking(prepared: PreparedName) -> list[tuple[frozenset[int], tuple[str, ...]]]:
    """The name's retrieving tokens, each with the positions it covers and its block keys:
    name tokens, and adjacent pairs joined, which are filed under their phonetic key only
    (their first three letters are their first token's)."""
    out = []
    for position, token in enumerate(prepared.tokens):
        if token.kind == NAME:
            out.append((frozenset({position}), _blocks(token)))
    for position, joined in enumerate(prepared.joins):
        first, second = prepared.tokens[position], prepared.tokens[position + 1]
        if first.kind in (NAME, PARTICLE) and second.kind == NAME:
            out.append((frozenset({position, position + 1}), (f"m{joined.key}",)))
    return out


class ScreeningIndex:
    """Listed names by block; ``screen`` returns the best matches of a party, explained."""

    def __init__(
        self,
        names: Iterable[ListedName],
        *,
        false_positives: frozenset[tuple[int, str]] = frozenset(),
    ):
        # (entry id, party key) pairs a second person confirmed are not the same (services).
        self.false_positives = false_positives
        self.names: list[ListedName] = []
        self.prepared: list[PreparedName] = []
        postings: dict[str, list[int]] = {}
        self.one_word: set[int] = set()
        # Per name, the vocabulary ids of its tokens that weigh, and every name's skeletons
        # and joined skeletons: the pre-filter's precomputed side (``_may_match``).
        self.vocabulary = Vocabulary()
        self.live: list[tuple[int, ...]] = []
        self.shapes: list[Shape] = []
        self.skeletons: set[str] = set()
        self.join_skeletons: set[str] = set()
        for position, listed in enumerate(names):
            prepared = name_prepare(listed.name)
            self.names.append(listed)
            self.prepared.append(prepared)
            live = prepared.informative
            self.live.append(tuple(self.vocabulary.add(t) for t in live))
            self.shapes.append(name_shape(live))
            self.skeletons |= prepared.skeletons
            self.join_skeletons |= prepared.join_skeletons
            if sum(t.kind == NAME for t in prepared.tokens) <= 1:
                self.one_word.add(position)
            for _, keys in _blocking(prepared):
                for key in keys:
                    postings.setdefault(key, []).append(position)
            for token in prepared.tokens:  # for queries romanised without vowels ("mhmd")
                if token.kind == NAME:
                    postings.setdefault(f"c{token.consonants}", []).append(position)
        # Tuples of ints, which the garbage collector leaves alone (there are 75,000 of them
        # for 50,000 entries: as sets, each full collection walked them all).
        self.postings = {key: tuple(dict.fromkeys(found)) for key, found in postings.items()}
        self.vocabulary.freeze()
        self.entries = len({listed.entry_id for listed in self.names})
        self.screen = functools.lru_cache(maxsize=50_000)(self._screen)
        self._token_postings = functools.lru_cache(maxsize=50_000)(self._postings_of)

    def __len__(self) -> int:
        return len(self.names)

    def _postings_of(self, keys: tuple[str, ...]) -> set[int]:
        """Cached and shared: callers read it, never change it."""
        return set().union(*(self.postings.get(key, ()) for key in keys))

    def candidates(self, prepared: PreparedName) -> set[int]:
        """Names sharing blocks with two of the query's tokens (a joined pair counts for the
        tokens it covers), or one-word names sharing one."""
        blocks = [(covers, self._token_postings(keys)) for covers, keys in _blocking(prepared)]
        blocks = [(covers, found) for covers, found in blocks if found]
        if not blocks:
            return set()
        if len(blocks) == 1:  # one word reaches the threshold only against one word
            return set(blocks[0][1] & self.one_word)
        # A one-word name reaches the threshold only against a query of one name word
        # (with particles: "Al Amri"); against more it is one token of several.
        one_word = sum(token.kind == NAME for token in prepared.tokens) <= 1
        found: set[int] = set()
        for i, (covers, first) in enumerate(blocks):
            if one_word:
                found |= first & self.one_word
            for other_covers, second in blocks[i + 1 :]:
                if not covers & other_covers:
                    found |= first & second
        return found

    def _worth_comparing(self, prepared: PreparedName, candidates: list[int]) -> list[int]:
        """The candidates whose full comparison can reach ``REPORT_FLOOR``.

        Decided per distinct token rather than per pair: which tokens of all the candidates
        match each name token of the query (most are told apart by look-ups and one rapidfuzz
        call), then each candidate by a set test (``names_may_match``: four in five share no
        matching token) and, unless joined tokens meet, by ``score_ceiling`` (most of the rest
        share only a first name)."""
        if len(candidates) <= FEW_CANDIDATES:  # continuous screening's small index, mostly
            return [p for p in candidates if names_may_match(prepared, self.prepared[p])]
        vocabulary = self.vocabulary
        among = set().union(*(self.live[position] for position in candidates))
        matching: dict[str, set[int]] = {}
        for token in prepared.tokens:
            if token.kind == NAME and token.weight > 0 and token.text not in matching:
                matching[token.text] = {
                    number
                    for number in vocabulary.could_match(token, among)
                    if tokens_match(token, vocabulary.tokens[number])
                }
        matched = set().union(*matching.values())
        live = self.live
        if prepared.join_skeletons.isdisjoint(self.skeletons) and prepared.skeletons.isdisjoint(
            self.join_skeletons
        ):
            joined = []
            sharing = [
                position for position in candidates if not matched.isdisjoint(live[position])
            ]
        else:  # rare: a joined pair of one name is a token of some listed name
            joined = [p for p in candidates if joins_meet(prepared, self.prepared[p])]
            sharing = [p for p in candidates if p not in joined and not matched.isdisjoint(live[p])]
        query = name_shape(prepared.informative)
        hit_sets = [matching[t.text] for t in prepared.informative if t.kind == NAME]
        worth = set(joined)
        for position in sharing:
            ids = live[position]
            query_hits = sum(not found.isdisjoint(ids) for found in hit_sets)
            entry_hits = [number in matched for number in ids]
            if score_ceiling(query, self.shapes[position], query_hits, entry_hits) >= CEILING_FLOOR:
                worth.add(position)
        return [position for position in candidates if position in worth]

    def _screen(self, party: Party) -> tuple[Match, ...]:
        prepared = name_prepare(party.name)
        if not prepared.informative:
            return ()
        query_type = party.entry_type or ("entity" if prepared.looks_like_company else "")
        best: dict[int, Match] = {}
        key = party_key(party.name, party.country) if self.false_positives else ""
        candidates = sorted(self.candidates(prepared))[:MAX_CANDIDATES]
        for position in self._worth_comparing(prepared, candidates):
            listed = self.names[position]
            if key and (listed.entry_id, key) in self.false_positives:
                continue
            comparison = names_compare(prepared, self.prepared[position])
            if comparison.score < REPORT_FLOOR:
                continue
            name_score = comparison.score
            adjustments = attributes_adjust(
                query_birth_date=party.birth_date,
                query_country=party.country,
                query_type=query_type,
                entry_birth_dates=listed.birth_dates,
                entry_countries=listed.countries,
                entry_type=listed.entry_type if listed.entry_type in ("person", "entity") else "",
            )
            if listed.strength == "weak":
                adjustments.append(
                    Adjustment(
                        "alias",
                        name_score * (WEAK_ALIAS_FACTOR - 1),
                        "a weak alias (the publisher says it identifies poorly)",
                    )
                )
            score = max(0.0, min(1.0, name_score + sum(a.effect for a in adjustments)))
            match = Match(
                score=score,
                name_score=name_score,
                entry_id=listed.entry_id,
                list_name=listed.list_name,
                list_kind=listed.list_kind,
                entry_type=listed.entry_type,
                matched_name=listed.name,
                strength=listed.strength,
                comparison=comparison,
                adjustments=adjustments,
            )
            if listed.entry_id not in best or best[listed.entry_id].score < score:
                best[listed.entry_id] = match
        ranked = sorted(best.values(), key=lambda m: (-m.score, m.entry_id))
        return tuple(ranked[:MAX_MATCHES])
