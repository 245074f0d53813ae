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
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from .names import NAME, PARTICLE, PreparedName, name_prepare, token_make
from .nicknames import NICKNAMES
from .positions import Postings, Rows, Stamps, holding, ids_among, shared_positions
from .scoring import (
    WEAK_ALIAS_FACTOR,
    Adjustment,
    Match,
    Shape,
    attributes_adjust,
    has_vowel,
    joins_meet,
    name_shape,
    names_compare,
    names_may_match,
    score_ceiling,
    tokens_match_measured,
)
from .vocabulary import Vocabulary

REPORT_FLOOR = 0.6  # matches below this are not worth returning
# A ceiling a hair under the floor keeps a candidate whose score might round onto it.
CEILING_FLOOR = REPORT_FLOOR - 1e-9
MAX_CANDIDATES = 300
# Under this many candidates, testing each pair costs less than the vocabulary's set-up.
FEW_CANDIDATES = 4
MAX_MATCHES = 5
SHAPES_KEPT = 10_000
CEILINGS_KEPT = 200_000
RESULTS_CACHED = 50_000


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


@functools.lru_cache(maxsize=32_768)  # recurring words (names.py says why no more)
def _blocks(text: str) -> tuple[str, ...]:
    """A name token's block keys (by text: a token is a function of its text)."""
    token = token_make(text)
    keys = [f"m{token.key}", f"s{token.skeleton[:3]}", f"e{token.skeleton[-3:]}"]
    if token.text in NICKNAMES:
        formal = token_make(NICKNAMES[token.text])
        keys += [f"m{formal.key}", f"s{formal.skeleton[:3]}"]
    if not has_vowel(token.text):
        keys.append(f"c{token.consonants}")
    return tuple(keys)


def _blocking(prepared: PreparedName) -> list[tuple[int, tuple[str, ...]]]:
    """The name's retrieving tokens, each with the positions it covers (as bits) and its
    block keys: name tokens, and adjacent pairs joined, which are filed under their phonetic
    key only (their first three letters are their first token's)."""
    out = []
    for position, token in enumerate(prepared.tokens):
        if token.kind == NAME:
            out.append((1 << position, _blocks(token.text)))
    for position, joined in enumerate(prepared.joins):
        first, second = prepared.tokens[position], prepared.tokens[position + 1]
        if first.kind in (NAME, PARTICLE) and second.kind == NAME:
            out.append((3 << position, (f"m{joined.key}",)))
    return out


K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A bounded map, least recently used dropped first. Unlike ``functools.lru_cache`` on a
    bound method it holds no reference back to the index, so an index is never part of a
    reference cycle and is freed as soon as it is replaced, even when frozen out of the
    collector's sight (runtime.py). Safe across threads (each step is one call under the GIL;
    a race costs a recomputation, never a wrong answer)."""

    def __init__(self, size: int):
        self.size = size
        self._found: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._found)

    def get(self, key: K) -> V | None:
        found = self._found.get(key)
        if found is not None:
            try:  # not ``contextlib.suppress``: a context manager is two Python calls
                self._found.move_to_end(key)
            except KeyError:  # dropped meanwhile by another thread
                pass
        return found

    def put(self, key: K, value: V) -> V:
        self._found[key] = value
        if len(self._found) > self.size:
            try:
                self._found.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread
                pass
        return value

    def clear(self) -> None:
        self._found.clear()


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
        one_word: list[int] = []
        # Per name, the vocabulary ids of its tokens that weigh, and every name's skeletons
        # and joined skeletons: the pre-filter's precomputed side (``_may_match``).
        self.vocabulary = Vocabulary()
        live: list[tuple[int, ...]] = []
        # Names' shapes are few (5 in bench.screening's 85,142 names): each kept once.
        shapes: dict[Shape, int] = {}
        self.shape_of: list[int] = []
        self.skeletons: set[str] = set()
        self.join_skeletons: set[str] = set()
        for position, listed in enumerate(names):
            prepared = name_prepare(listed.name)
            self.names.append(listed)
            self.prepared.append(prepared)
            informative = prepared.informative
            live.append(tuple(self.vocabulary.add(t) for t in informative))
            shape = name_shape(informative)
            self.shape_of.append(shapes.setdefault(shape, len(shapes)))
            self.skeletons |= prepared.skeletons
            self.join_skeletons |= prepared.join_skeletons
            if sum(t.kind == NAME for t in prepared.tokens) <= 1:
                one_word.append(position)
            for _, keys in _blocking(prepared):
                for key in keys:
                    postings.setdefault(key, []).append(position)
            for token in prepared.tokens:  # for queries romanised without vowels ("mhmd")
                if token.kind == NAME:
                    postings.setdefault(f"c{token.consonants}", []).append(position)
        # Sorted positions per key, read position by position in compiled code
        # (positions.py), at a nanosecond or two each; as Python sets of ints, hashing the
        # scattered int objects cost 100 ns a position (a common first name's blocks reach
        # 3,000 names), and the collector walked every set the query cache kept.
        single = np.zeros(len(self.names), dtype=bool)
        single[one_word] = True
        self.postings = Postings(postings, single)
        self.shapes = list(shapes)
        self.live = Rows(live)
        self.vocabulary.freeze()
        self.entries = len({listed.entry_id for listed in self.names})
        # Results per party, until the lists change (a new index). Parties recur: a bank's
        # customers, their payees. Keyed by the party's fields as a tuple of strings, which
        # the garbage collector stops tracking (a Party it would walk at every collection).
        self.results: Recent[tuple[str, ...], tuple[Match, ...]] = Recent(RESULTS_CACHED)
        # Queries' shapes, numbered, and ceilings by shapes and hits (``_ceiling``).
        self._shape_ids: dict[Shape, int] = {}
        self._numbers = itertools.count()
        self._ceilings: dict[tuple, float] = {}
        self._best: dict[tuple[int, int], float] = {}
        self._stamps = Stamps(len(self.names))
        self._vocabulary_stamps = Stamps(len(self.vocabulary))
        self._stamps_held = threading.Lock()  # a pass's stamps are its own (positions.py)

    def __len__(self) -> int:
        return len(self.names)

    def screen(self, party: Party) -> tuple[Match, ...]:
        """The party's best matches, best first, at most ``MAX_MATCHES``."""
        key = (party.name, party.country, party.birth_date, party.entry_type)
        found = self.results.get(key)
        if found is None:
            found = self.results.put(key, self._screen(party))
        return found

    def candidates(self, prepared: PreparedName) -> list[int]:
        """Names sharing blocks with two of the query's tokens (a joined pair counts for the
        tokens it covers), or one-word names sharing one; in index order."""
        ranges = self.postings.ranges
        blocks = []
        for covers, keys in _blocking(prepared):
            parts = [found for key in keys if (found := ranges.get(key)) is not None]
            if parts:
                blocks.append((covers, parts))
        if not blocks:
            return []
        # One word reaches the threshold only against one word: a query with a single
        # retrieving token, or of one name word (with particles: "Al Amri"), is matched with
        # one-word names; against more a one-word name is one token of several.
        query_one_word = len(blocks) == 1 or sum(t.kind == NAME for t in prepared.tokens) <= 1
        with self._stamps_held:
            return shared_positions(blocks, self.postings, query_one_word, self._stamps)

    def _worth_comparing(self, prepared: PreparedName, candidates: list[int]) -> list[int]:
        """The candidates whose full comparison can reach ``REPORT_FLOOR``.

        Decided per distinct token rather than per pair: which tokens of all the candidates
        match each name token of the query (most are told apart by look-ups and one rapidfuzz
        call), then each candidate by a set test (``names_may_match``: four in five share no
        matching token) and, unless joined tokens meet, by ``score_ceiling`` (most of the rest
        share only a first name). Most queries share a first name with their candidates and
        nothing else: once a token matches nothing, the best case of any listed name with the
        tokens left may fall short of the floor, and none is looked at."""
        if len(candidates) <= FEW_CANDIDATES:  # continuous screening's small index, mostly
            listed = self.prepared  # read once: compiled, each read of self.x is a look-up
            return [p for p in candidates if names_may_match(prepared, listed[p])]
        if prepared.join_skeletons.isdisjoint(self.skeletons) and prepared.skeletons.isdisjoint(
            self.join_skeletons
        ):
            joined = []
        else:  # rare: a joined pair of one name is a token of some listed name
            listed = self.prepared
            joined = [p for p in candidates if joins_meet(prepared, listed[p])]
        informative = prepared.informative
        query = self._shape_id(informative)
        names = [t for t in informative if t.kind == NAME]
        vocabulary = self.vocabulary
        with self._stamps_held:
            among = set(ids_among(candidates, self.live, self._vocabulary_stamps))
        # A token whose own id is among the candidates' matches at least that: the others are
        # tried first, so that one matching nothing ends the query before a first name
        # shared with every candidate is measured against all of them.
        known = vocabulary.ids
        certain = [token for token in names if known.get(token.text) in among]
        matching: dict[str, set[int]] = {}
        for token in [t for t in names if t not in certain] + certain:
            if token.text in matching:
                continue
            found = matching[token.text] = {
                number
                for number in vocabulary.could_match(token, among)
                if tokens_match_measured(token, vocabulary.tokens[number])
            }
            # Once a token matches nothing, the others' best case may no longer reach the
            # floor with any name of the index.
            if not found and self._best_ceiling(query, names, matching) < CEILING_FLOOR:
                return [p for p in candidates if p in joined] if joined else []
        matched = set().union(*matching.values())
        with self._stamps_held:
            sharing = holding(candidates, self.live, matched, self._vocabulary_stamps)
        hit_sets = [matching[t.text] for t in names]
        worth = set(joined)
        shape_of = self.shape_of
        ceiling_of = self._ceiling
        for position, ids in sharing:
            if position in joined:
                continue
            query_hits = 0
            for found in hit_sets:
                if not found.isdisjoint(ids):
                    query_hits += 1
            entry_hits = tuple([number in matched for number in ids])
            if ceiling_of(query, shape_of[position], query_hits, entry_hits) >= CEILING_FLOOR:
                worth.add(position)
        return [position for position in candidates if position in worth]

    def _shape_id(self, tokens: tuple) -> tuple[int, Shape]:
        """A query's shape and its number among the shapes seen (``_ceiling`` keys by number).
        Numbers are never reused (not even after the caches are emptied), so a number names
        one shape only, across threads too."""
        shape = name_shape(tokens)
        number = self._shape_ids.get(shape)
        if number is None:
            if len(self._shape_ids) >= SHAPES_KEPT:  # odd names, many: start again
                self._shape_ids.clear()
                self._ceilings.clear()
                self._best.clear()
            number = self._shape_ids.setdefault(shape, next(self._numbers))
        return number, shape

    def _ceiling(
        self, query: tuple[int, Shape], shape: int, query_hits: int, entry_hits: tuple
    ) -> float:
        """``score_ceiling`` of a query shape against a listed shape, kept: a few dozen
        shapes and hit patterns recur across every query."""
        key = (query[0], shape, query_hits, entry_hits)
        found = self._ceilings.get(key)
        if found is None:
            found = score_ceiling(query[1], self.shapes[shape], query_hits, entry_hits)
            if len(self._ceilings) < CEILINGS_KEPT:
                self._ceilings[key] = found
        return found

    def _best_ceiling(self, query: tuple[int, Shape], names: list, matching: dict) -> float:
        """The best ceiling any listed name could reach with the query tokens that may still
        match (those not tried yet, and those that matched): every token of it matching
        (``score_ceiling`` only grows with either side's hits). Kept per query shape."""
        possible = sum(t.text not in matching or bool(matching[t.text]) for t in names)
        key = (query[0], possible)
        found = self._best.get(key)
        if found is None:
            found = max(
                score_ceiling(query[1], shape, possible, (True,) * len(shape.weights))
                for shape in self.shapes
            )
            if len(self._best) < CEILINGS_KEPT:
                self._best[key] = found
        return found

    def _screen(self, party: Party) -> tuple[Match, ...]:
        prepared = name_prepare(party.name)
        if not prepared.informative:
            return ()
        query_type = party.entry_type or ("entity" if prepared.looks_like_company else "")
        best: dict[int, Match] = {}
        key = party_key(party.name, party.country) if self.false_positives else ""
        candidates = self.candidates(prepared)[:MAX_CANDIDATES]
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
