"""Comparing two names, and a party with a listed entry, with the reasons for the score.

Tokens are aligned one to one, best pair first, whatever their order; two adjacent tokens may
stand for one ("Al Amri" / "Alamri", "Abdul Rahman" / "Abdulrahman"). A pair counts when its
similarity reaches ``TOKEN_MATCH``: exact, the same transliteration skeleton, a known nickname,
the same phonetic key, or close spelling (the mean of Jaro-Winkler and the Indel ratio, which
keeps Jaro-Winkler's bonus for a shared prefix from matching "Sunrise" with "Sunset").

The name score is the matched share of the *shorter* name (by weight), slightly lowered by
what the longer one has unmatched (a missing middle name costs little; only one of three
names matched costs a lot). Secondary attributes then move it: a different year of birth or
a person against a company pulls it down, an equal date of birth or country lifts it a little.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from rapidfuzz.distance import Indel, JaroWinkler

from .names import NAME, WEIGHTS, PreparedName, Token, name_prepare
from .nicknames import NICKNAMES

TOKEN_MATCH = 0.85
LONGER_SIDE_SHARE = 0.25  # how much the longer name's unmatched tokens cost
ONE_TOKEN_PENALTY = 0.8  # only one token matched while both names have several
WEAK_ALIAS_FACTOR = 0.9
# Sounding alike is not enough on its own: "John" and "Jane" share a Metaphone key.
PHONETIC_SPELLING_FLOOR = 0.75
SHORT_TOKEN_SPELLING = 0.9


# Named tuples, made through ``tuple.__new__`` (names.py says why): every candidate compared
# makes one comparison and its pairs, and most are dropped below the floor; a dataclass's
# ``__init__`` is Python code.
class TokenPair(NamedTuple):
    query: str
    entry: str
    measure: str
    similarity: float


class NameComparison(NamedTuple):
    score: float
    pairs: list[TokenPair]
    unmatched_query: list[str]
    unmatched_entry: list[str]
    ignored: list[str]
    note: str = ""


_pair_new = functools.partial(tuple.__new__, TokenPair)
_comparison_new = functools.partial(tuple.__new__, NameComparison)


@dataclass
class Adjustment:
    attribute: str
    effect: float
    why: str


@dataclass
class Match:
    """A party against one listed entry: the score and everything that made it."""

    score: float
    name_score: float
    entry_id: int
    list_name: str
    list_kind: str
    entry_type: str
    matched_name: str
    strength: str
    comparison: NameComparison
    adjustments: list[Adjustment] = field(default_factory=list)

    def explanation(self) -> dict:
        return {
            "score": round(self.score * 100, 1),
            "name_score": round(self.name_score * 100, 1),
            "list": self.list_name,
            "kind": self.list_kind,
            "entry_id": self.entry_id,
            "entry_type": self.entry_type,
            "matched_name": self.matched_name,
            "strength": self.strength,
            "tokens": [
                {
                    "query": pair.query,
                    "entry": pair.entry,
                    "measure": pair.measure,
                    "similarity": round(pair.similarity * 100, 1),
                }
                for pair in self.comparison.pairs
            ],
            "unmatched_query": self.comparison.unmatched_query,
            "unmatched_entry": self.comparison.unmatched_entry,
            "ignored": self.comparison.ignored,
            "note": self.comparison.note,
            "attributes": [
                {"attribute": a.attribute, "effect": round(a.effect * 100, 1), "why": a.why}
                for a in self.adjustments
            ],
        }


_PAIRS: dict[tuple[str, str], tuple[float, str]] = {}
PAIR_CACHE_SIZE = 200_000


def token_similarity(a: Token, b: Token) -> tuple[float, str]:
    """How alike two tokens are, and by which measure. Cached by the tokens' text (a token is
    a function of its text): the same pairs recur, common names and repeated parties."""
    key = (a.text, b.text)
    found = _PAIRS.get(key)
    if found is None:
        if len(_PAIRS) >= PAIR_CACHE_SIZE:
            _PAIRS.clear()
        found = _PAIRS[key] = _token_similarity(a, b)
    return found


def _token_similarity(a: Token, b: Token) -> tuple[float, str]:
    # Each field read once: compiled, every attribute read is a full look-up.
    text_a, text_b, skeleton_a, skeleton_b = a.text, b.text, a.skeleton, b.skeleton
    if text_a == text_b:
        return 1.0, "exact"
    if skeleton_a == skeleton_b:
        return 0.97, "transliteration"
    nickname_a, nickname_b = NICKNAMES.get(text_a), NICKNAMES.get(text_b)
    if (
        nickname_a == text_b
        or nickname_b == text_a
        or (nickname_a is not None and nickname_a == nickname_b)
    ):
        return 0.92, "nickname"
    shorter = min(len(text_a), len(text_b))
    consonants = a.consonants
    if (
        consonants == b.consonants
        and consonants
        and (not has_vowel(text_a) or not has_vowel(text_b))
        and shorter >= 2
    ):
        return 0.9, "consonants"  # "mhmd", the vowel-less romanisation of محمد
    if shorter == 1:
        if text_a[0] == text_b[0]:
            return 0.8, "initial"
        return 0.0, ""
    if shorter <= 3:  # "Li" and "Lu" are two names: short tokens must be equal in skeleton
        return 0.0, ""
    spelling = (
        JaroWinkler.normalized_similarity(skeleton_a, skeleton_b)
        + Indel.normalized_similarity(skeleton_a, skeleton_b)
    ) / 2
    longer, shorter_text = (text_a, text_b) if len(text_a) > len(text_b) else (text_b, text_a)
    if longer.startswith(shorter_text) and len(longer) - len(shorter_text) >= 2:
        return min(spelling, 0.8), "extension"  # "Martin" and "Martinez" are two names
    same_key = a.key == b.key
    if shorter <= 5 and spelling < SHORT_TOKEN_SPELLING:
        if text_a[1:] == text_b[1:] and text_a[0] in "aeiou" and text_b[0] in "aeiou":
            return 0.92, "phonetic"  # "Omar" and "Umar"
        if same_key and skeleton_a[-1] == skeleton_b[-1] and spelling >= 0.8:
            return 0.9, "phonetic"  # "Yusuf" and "Youssef"; not "Maria" and "Mario"
        return spelling * 0.95, "spelling"  # "Mario" and "Maria": one letter is a lot
    if same_key and len(a.key) >= 2 and spelling >= PHONETIC_SPELLING_FLOOR:
        return max(spelling, 0.92), "phonetic"
    return spelling, "spelling"


def tokens_match(a: Token, b: Token) -> bool:
    """Whether the pair would count as matched name tokens in ``names_compare`` (at least
    TOKEN_MATCH, and not an initial). Pairs that cannot are told apart without the full
    measure (``_could_match``), which most pairs an index retrieves are."""
    if (a.text, b.text) not in _PAIRS and not _could_match(a, b):
        return False
    return tokens_match_measured(a, b)


def tokens_match_measured(a: Token, b: Token) -> bool:
    """``tokens_match`` for a pair known to pass ``_could_match`` (``Vocabulary.could_match``
    returns only such pairs): measured at once, not tested twice."""
    similarity, measure = token_similarity(a, b)
    return similarity >= TOKEN_MATCH and measure != "initial"


# Spelling is the mean of Jaro-Winkler and Indel similarity, each at most 1: reaching a
# spelling floor needs an Indel similarity of at least 2 * floor - 1, and a sum of 2 * floor.
# A batch call (vocabulary.py) may round a hair differently from a single one: a hair lower
# only keeps a pair more, which the full measure then decides.
_ROUNDING = 1e-9


def spelling_floor(a: Token, b: Token) -> float | None:
    """What the pair needs to reach TOKEN_MATCH in ``_token_similarity`` (not as an initial),
    decided from equalities alone: None, it never can; 0, an equality may do it (skeleton,
    nickname, vowel-less consonants, a first vowel); otherwise the spelling it needs (lower
    when the phonetic keys agree). Most pairs an index retrieves need spelling they do not
    have, which ``spelling_may_reach`` tells at a fraction of the full measure. Held to
    ``_token_similarity`` by property tests (tests/test_matching.py)."""
    if a.skeleton == b.skeleton:
        return 0.0
    text_a, text_b = a.text, b.text  # read once (as in _token_similarity)
    shorter = min(len(text_a), len(text_b))
    if shorter <= 1:
        return None  # an initial, or nothing
    if text_a in NICKNAMES or text_b in NICKNAMES:
        return 0.0
    consonants = a.consonants
    if consonants == b.consonants and consonants and not (has_vowel(text_a) and has_vowel(text_b)):
        return 0.0  # "mhmd", the vowel-less romanisation of محمد
    if shorter <= 3:
        return None
    if text_a[1:] == text_b[1:] and text_a[0] in "aeiou" and text_b[0] in "aeiou":
        return 0.0
    return PHONETIC_SPELLING_FLOOR if a.key == b.key else TOKEN_MATCH


def spelling_indel_floor(floor: float) -> float:
    """The Indel similarity under which spelling cannot reach ``floor``."""
    return 2 * floor - 1 - _ROUNDING


def spelling_may_reach(a: str, b: str, indel: float, floor: float) -> bool:
    """Whether two skeletons whose Indel similarity is ``indel`` may spell at least
    ``floor`` (Jaro-Winkler asked only past the Indel floor)."""
    return indel >= spelling_indel_floor(floor) and (
        indel + JaroWinkler.normalized_similarity(a, b) >= 2 * floor - _ROUNDING
    )


def _could_match(a: Token, b: Token) -> bool:
    """False only when ``_token_similarity(a, b)`` is surely below TOKEN_MATCH or an initial
    (``spelling_floor``, then the spelling itself). Held to that by property tests."""
    floor = spelling_floor(a, b)
    if floor is None or floor == 0:
        return floor == 0
    return spelling_may_reach(
        a.skeleton, b.skeleton, Indel.normalized_similarity(a.skeleton, b.skeleton), floor
    )


def names_may_match(query: PreparedName, entry: PreparedName) -> bool:
    """False only when ``names_compare`` would score 0: no name token of the query matches a
    token of the entry, and no joined pair of either equals a token of the other. Four in five
    of the names an index retrieves (by shared blocks) fail it; this spares them the full
    comparison (alignment, shares, explanation)."""
    if joins_meet(query, entry):
        return True
    entry_live = entry.informative
    for a in query.informative:  # loops, not any() over a generator: compiled, far cheaper
        if a.kind == NAME:
            for b in entry_live:
                if tokens_match(a, b):
                    return True
    return False


def joins_meet(query: PreparedName, entry: PreparedName) -> bool:
    """Whether two adjacent tokens of one name, joined, are a token of the other."""
    return bool(query.join_skeletons & entry.skeletons or entry.join_skeletons & query.skeletons)


# Bound once: compiled code looks a method up on every call.
_vowel_free = frozenset("aeiou").isdisjoint


def has_vowel(text: str) -> bool:
    return not _vowel_free(text)


def _joined(name: PreparedName, other: PreparedName) -> tuple[Token, ...]:
    """The name's tokens, adjacent ones joined where the joined form is a token of the other
    name ("Al Amri" against "Alamri")."""
    if not name.join_skeletons & other.skeletons:
        return name.tokens
    tokens, out, i = name.tokens, [], 0
    while i < len(tokens):
        if i + 1 < len(tokens) and name.joins[i].skeleton in other.skeletons:
            out.append(name.joins[i])
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return tuple(out)


def names_compare(query: PreparedName, entry: PreparedName) -> NameComparison:
    """The name score of two prepared names (0..1) with its token alignment."""
    q_tokens = _joined(query, entry)
    e_tokens = _joined(entry, query)
    ignored = [t.text for t in (*q_tokens, *e_tokens) if t.weight == 0]
    q_live = [t for t in q_tokens if t.weight > 0]
    e_live = [t for t in e_tokens if t.weight > 0]
    if not q_live or not e_live:
        return _comparison_new(
            (0.0, [], [t.text for t in q_live], [t.text for t in e_live], ignored, "")
        )
    candidates = []
    for i, a in enumerate(q_live):
        for j, b in enumerate(e_live):
            similarity, measure = token_similarity(a, b)
            if similarity >= TOKEN_MATCH or (measure == "initial" and similarity > 0):
                candidates.append((similarity, i, j, measure))
    candidates.sort(key=_first, reverse=True)  # stable, as a key of -similarity was
    used_q, used_e, pairs = set(), set(), []
    matched_q = matched_e = 0.0
    strong_pairs = 0
    for similarity, i, j, measure in candidates:
        if i in used_q or j in used_e:
            continue
        used_q.add(i)
        used_e.add(j)
        a, b = q_live[i], e_live[j]
        pairs.append(_pair_new((a.text, b.text, measure, similarity)))
        weight = min(a.weight, b.weight)
        matched_q += similarity * (weight if measure != "initial" else a.weight * 0.5)
        matched_e += similarity * (weight if measure != "initial" else b.weight * 0.5)
        strong_pairs += a.kind == NAME and measure != "initial"
    unmatched_q = [t.text for k, t in enumerate(q_live) if k not in used_q]
    unmatched_e = [t.text for k, t in enumerate(e_live) if k not in used_e]
    if not strong_pairs:
        return _comparison_new(
            (0.0, pairs, unmatched_q, unmatched_e, ignored, "no name token matched")
        )
    total_q, names_q = _weighed(q_live)
    total_e, names_e = _weighed(e_live)
    share_q = matched_q / total_q
    share_e = matched_e / total_e
    shorter, longer = sorted((share_q, share_e), reverse=True)
    score = shorter * (1 - LONGER_SIDE_SHARE + LONGER_SIDE_SHARE * longer)
    note = ""
    if strong_pairs == 1 and min(names_q, names_e) >= 2:
        score *= ONE_TOKEN_PENALTY
        note = "only one name token matched"
    elif strong_pairs == 1 and max(names_q, names_e) >= 2 and min(names_q, names_e) == 1:
        score *= ONE_TOKEN_PENALTY
        note = "a one-word name against a longer one"
    return _comparison_new((min(score, 1.0), pairs, unmatched_q, unmatched_e, ignored, note))


_first = itemgetter(0)


def _weighed(tokens: list[Token]) -> tuple[float, int]:
    """The tokens' total weight and how many are name tokens, in one pass."""
    total, names = 0, 0
    for token in tokens:
        total += token.weight
        names += token.kind == NAME
    return total, names


INITIAL_CREDIT = 0.8 * 0.5  # an initial's similarity, at half weight (names_compare)


class Shape(NamedTuple):
    """What ``score_ceiling`` needs of a name's weighing tokens, computed once per name (and
    per query: a named tuple is made and hashed in a fraction of a frozen dataclass's time)."""

    weights: tuple[float, ...]
    names: int  # name tokens (each weighs WEIGHTS[NAME])
    total: float
    one_letter: bool
    others: float  # the heaviest token that is not a name token, 0 if none
    others_total: float


# Made through ``tuple.__new__`` (names.py says why): a shape is made for every query.
_shape_new = functools.partial(tuple.__new__, Shape)


def name_shape(tokens: tuple[Token, ...]) -> Shape:
    """The shape of a name's weighing tokens (``PreparedName.informative``), in one pass (a
    query's shape is made for every query)."""
    weights, others = [], []
    total, one_letter = 0, False
    for token in tokens:
        weight = token.weight
        weights.append(weight)
        total += weight
        if token.kind != NAME:
            others.append(weight)
        if len(token.text) == 1:
            one_letter = True
    return _shape_new(
        (
            tuple(weights),  # weights
            len(tokens) - len(others),  # names
            total,
            one_letter,
            max(others, default=0.0),  # others
            sum(others),  # others_total
        )
    )


def score_ceiling(query: Shape, entry: Shape, query_hits: int, entry_hits: Sequence[bool]) -> float:
    """At least the score ``names_compare`` gives two names whose joins do not meet (so
    neither is re-joined), from which of their tokens match, without aligning them: most
    candidates that share one matching token are told apart with it. ``query_hits``: how many
    of the query's name tokens match (``tokens_match``) a token of the entry; ``entry_hits[j]``:
    the entry's j-th weighing token matches a name token of the query. Held by a property
    test (tests/test_matching.py).

    A token with a hit counts its whole weight; without, an initial's credit if either name
    has a one-letter token, and on the entry's side what a generic word or particle of the
    query could give it; the query's generic words and particles count whole."""
    strong_pairs = min(query_hits, sum(entry_hits))
    if not strong_pairs or not query.total or not entry.total:
        return 0.0
    initial = INITIAL_CREDIT if query.one_letter or entry.one_letter else 0.0
    name_weight = WEIGHTS[NAME]
    matched_q = (
        query_hits * name_weight
        + (query.names - query_hits) * name_weight * initial
        + query.others_total
    )
    matched_e = sum(
        weight if hit else max(initial * weight, min(weight, query.others))
        for weight, hit in zip(entry.weights, entry_hits, strict=True)
    )
    shorter, longer = sorted((matched_q / query.total, matched_e / entry.total), reverse=True)
    score = shorter * (1 - LONGER_SIDE_SHARE + LONGER_SIDE_SHARE * longer)
    names = (query.names, entry.names)
    if strong_pairs == 1 and max(names) >= 2 and min(names) >= 1:
        score *= ONE_TOKEN_PENALTY
    return min(score, 1.0)


def names_score(a: str, b: str) -> float:
    """Two names as text (evaluation, tests)."""
    return names_compare(name_prepare(a), name_prepare(b)).score


def attributes_adjust(
    *,
    query_birth_date: str = "",
    query_country: str = "",
    query_type: str = "",
    entry_birth_dates: tuple[str, ...] = (),
    entry_countries: tuple[str, ...] = (),
    entry_type: str = "",
) -> list[Adjustment]:
    """What the secondary attributes say: each known on both sides moves the score."""
    adjustments = []
    if query_birth_date and entry_birth_dates:
        adjustments.append(_birth_date_adjust(query_birth_date, entry_birth_dates))
    if query_country and entry_countries:
        if query_country in entry_countries:
            adjustments.append(Adjustment("country", 0.02, f"{query_country} is listed"))
        else:
            shown = ", ".join(entry_countries)
            adjustments.append(Adjustment("country", -0.05, f"{query_country}, listed {shown}"))
    if query_type and entry_type and query_type != entry_type:
        adjustments.append(
            Adjustment("type", -0.2, f"the party is a {query_type}, the entry a {entry_type}")
        )
    return adjustments


def _birth_date_adjust(query: str, listed: tuple[str, ...]) -> Adjustment:
    if query in listed:
        return Adjustment("date of birth", 0.05, f"{query} is listed")
    year = query[:4]
    years = {date[:4] for date in listed}
    if year in years:
        return Adjustment("date of birth", 0.03, f"born {year}, as listed")
    if any(abs(int(year) - int(other)) <= 1 for other in years):
        return Adjustment("date of birth", 0.0, f"born {year}, listed {', '.join(sorted(years))}")
    return Adjustment("date of birth", -0.2, f"born {year}, listed {', '.join(sorted(years))}")
