"""The matcher per category (no database): what must match, what must not, and why."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.screening.default_rules import MATCH_SCORE
from sentinel.screening.evaluation.report import evaluate, pairs_read
from sentinel.screening.matching.index import (
    MAX_CANDIDATES,
    MAX_MATCHES,
    REPORT_FLOOR,
    ListedName,
    Party,
    ScreeningIndex,
)
from sentinel.screening.matching.names import (
    _SKELETON_RULES,
    NAME,
    Token,
    name_prepare,
    skeleton,
    token_make,
)
from sentinel.screening.matching.scoring import (
    TOKEN_MATCH,
    _could_match,
    _token_similarity,
    joins_meet,
    name_shape,
    names_compare,
    names_may_match,
    names_score,
    score_ceiling,
    tokens_match,
)
from sentinel.screening.matching.vocabulary import Vocabulary

THRESHOLD = MATCH_SCORE / 100


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("Youssef Ebrahim Alamri", "Yusuf Ibrahim Al-Amri"),  # transliteration, joined particle
        ("Al-Amri Yusuf Ibrahim", "Yusuf Ibrahim Al-Amri"),  # order
        ("Yusuf Al-Amri", "Yusuf Ibrahim Al-Amri"),  # missing middle name
        ("Abdulrahman Khalid", "Abdul Rahman Khaled"),  # split token
        ("Мухаммад Юсуф", "Muhammad Yusuf"),  # Cyrillic
        ("李明", "Li Ming"),  # Chinese, syllable by syllable
        ("Bill Clinton", "William Clinton"),  # nickname
        ("ACME Trading LLC", "Acme Trading Company"),  # legal forms not matched on
        ("MARÍA GARCÍA", "maria garcia"),  # case and accents
    ],
)
def test_variants_of_a_listed_name_match(query, listed):
    assert names_score(query, listed) >= THRESHOLD


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("George Bush", "George Habbash"),  # one shared first name
        ("CORP", "XYZ Corp"),  # only a legal form in common
        ("Sunrise Trading Corp", "Sunset Trading Corp"),  # generic and legal words only
        ("Li Wei", "Lu Wei"),  # short names one letter apart
        ("John Smith", "Jane Smith"),  # same phonetic key, another name
        ("Joon Martin", "Joon Martinez"),  # a longer, different surname
        ("Ibrahim", "Yusuf Ibrahim Al-Amri"),  # one name of three
        ("Maria Garcia", "Mario Garcia"),
    ],
)
def test_near_misses_and_common_tokens_do_not_match(query, listed):
    assert names_score(query, listed) < THRESHOLD


def index(*names: tuple[str, str], **fields) -> ScreeningIndex:
    return ScreeningIndex(
        ListedName(
            entry_id=number,
            list_name="sdn",
            list_kind="sanctions",
            entry_type=entry_type,
            name=name,
            strength="strong",
            **fields,
        )
        for number, (name, entry_type) in enumerate(names, start=1)
    )


def test_a_match_explains_tokens_measures_and_attributes():
    sdn = index(("Yusuf Ibrahim Al-Amri", "person"), birth_dates=("1961-07-30",), countries=("YE",))
    [match] = sdn.screen(Party("Youssef Ebrahim Alamri", country="YE", birth_date="1961-07-30"))
    explanation = match.explanation()
    assert {(t["query"], t["entry"], t["measure"]) for t in explanation["tokens"]} == {
        ("youssef", "yusuf", "phonetic"),
        ("ebrahim", "ibrahim", "phonetic"),
        ("alamri", "alamri", "exact"),
    }
    assert [a["attribute"] for a in explanation["attributes"]] == ["date of birth", "country"]
    assert explanation["score"] > explanation["name_score"]


def test_a_different_year_of_birth_or_type_lowers_the_score_below_the_threshold():
    sdn = index(("Yusuf Ibrahim Al-Amri", "person"), birth_dates=("1961-07-30",))
    [match] = sdn.screen(Party("Yusuf Ibrahim Al-Amri", birth_date="1990-01-01"))
    assert match.name_score == 1.0 and match.score < THRESHOLD
    [company] = index(("Ahmed Hassan", "person")).screen(Party("Ahmed Hassan LLC"))
    assert company.score < THRESHOLD
    assert company.adjustments[0].attribute == "type"


def test_retrieval_scores_candidates_from_blocks_not_the_whole_list():
    names = [(f"Person{n:05d} Family{n:05d}", "person") for n in range(2000)]
    sdn = index(*names, ("Yusuf Ibrahim Al-Amri", "person"))
    assert sdn.candidates(sdn.prepared[-1]) == [2000]
    assert sdn.screen(Party("Youssef Al Amri"))[0].entry_id == 2001
    assert sdn.screen(Party("Nobody In Particular")) == ()


def test_the_shipped_evaluation_meets_the_target_at_the_shipped_threshold():
    overall = evaluate(THRESHOLD)["all"]
    assert overall.pairs >= 1000
    assert overall.precision >= 0.95 and overall.recall >= 0.95


def _evaluation_tokens() -> list:
    rows = csv.DictReader((EVALUATION / "pairs.csv").open(encoding="utf-8"))
    names = {row[side] for row in rows for side in ("query", "entry")}
    return list({t.text: t for n in names for t in name_prepare(n).tokens if t.weight}.values())


EVALUATION = Path(__file__).resolve().parents[1] / "evaluation"
EVALUATION_TOKENS = _evaluation_tokens()


def _skeleton_every_rule(word: str) -> str:
    """The skeleton as its rules say, every rule applied in turn, nothing skipped."""
    for old, new in _SKELETON_RULES:
        word = word.replace(old, new)
    word = re.sub(r"(.)\1+", r"\1", word)
    return word[:-1] if len(word) > 3 and word.endswith("h") else word


@settings(max_examples=3000, deadline=None)
@given(
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True)
    | st.from_regex(r"[hjkqwyzoeip]{1,9}", fullmatch=True)
)
def test_the_skeleton_skips_only_rules_that_change_nothing(word):
    # skeleton() skips the rules when none of their patterns is in the word, and the
    # doubles' substitution when there are none: the same skeleton as every rule in turn.
    assert skeleton(word) == _skeleton_every_rule(word), word


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(EVALUATION_TOKENS) | st.from_regex(r"[a-z]{1,9}", fullmatch=True),
    st.sampled_from(EVALUATION_TOKENS) | st.from_regex(r"[a-z]{1,9}", fullmatch=True),
)
def test_the_cheap_pair_test_never_turns_away_a_pair_that_matches(a, b):
    # The index skips the full measure for pairs _could_match turns away: it must only turn
    # away pairs the full measure scores below a match (any spelling, any real name token).
    a = a if isinstance(a, Token) else token_make(a)
    b = b if isinstance(b, Token) else token_make(b)
    similarity, measure = _token_similarity(a, b)
    if similarity >= TOKEN_MATCH and measure != "initial":
        assert _could_match(a, b), (a.text, b.text, similarity, measure)


def test_the_cheap_pair_test_on_every_pair_of_the_evaluation():
    # Every token pair the shipped evaluation set can form, both ways (exhaustive, not sampled)
    turned_away = [
        (a.text, b.text)
        for a in EVALUATION_TOKENS
        for b in EVALUATION_TOKENS
        if not _could_match(a, b)
        and _token_similarity(a, b)[0] >= TOKEN_MATCH
        and _token_similarity(a, b)[1] != "initial"
    ]
    assert turned_away == []


_WORDS = st.sampled_from(EVALUATION_TOKENS) | st.from_regex(r"[a-z]{1,9}", fullmatch=True)


@settings(max_examples=3000, deadline=None)
@given(_WORDS, _WORDS)
def test_the_vocabulary_never_turns_away_a_token_that_matches(a, b):
    # The index asks the vocabulary which of its tokens a query token could match, and
    # measures only those: a pair tokens_match accepts must always be among them.
    a = a if isinstance(a, Token) else token_make(a)
    b = b if isinstance(b, Token) else token_make(b)
    vocabulary = Vocabulary()
    number = vocabulary.add(b)
    vocabulary.freeze()
    if tokens_match(a, b):
        assert number in vocabulary.could_match(a, {number}), (a.text, b.text)


@pytest.mark.parametrize(
    ("a", "b", "matches"),
    [
        ("mhmd", "muhammad", True),  # vowel-less consonants
        ("omar", "umar", True),  # all but a first vowel
        ("yusuf", "youssef", True),  # phonetic key, spelling under TOKEN_MATCH
        ("bill", "william", True),  # nickname
        ("youssef", "yusuf", True),
        ("babadu", "bobodi", False),  # the same consonants, both with vowels
        ("obama", "ibama", True),
        ("li", "lu", False),
        ("j", "john", False),  # an initial is not a matched token
        ("martin", "martinez", False),
    ],
)
def test_the_vocabulary_and_the_pair_test_agree_with_the_full_measure(a, b, matches):
    a, b = token_make(a), token_make(b)
    similarity, measure = _token_similarity(a, b)
    assert (similarity >= TOKEN_MATCH and measure != "initial") == matches
    vocabulary = Vocabulary()
    number = vocabulary.add(b)
    vocabulary.freeze()
    if matches:  # neither may turn away a match (both may keep a pair the measure refuses)
        assert _could_match(a, b)
        assert number in vocabulary.could_match(a, {number})
    else:
        assert not tokens_match(a, b)


@settings(max_examples=300, deadline=None)
@given(_WORDS, st.lists(_WORDS, min_size=1, max_size=40, unique=True))
def test_the_vocabulary_keeps_every_matching_token_among_many(a, others):
    # As the index asks it: one query token against all its candidates' tokens at once.
    a = a if isinstance(a, Token) else token_make(a)
    others = [b if isinstance(b, Token) else token_make(b) for b in others]
    vocabulary = Vocabulary()
    numbers = {vocabulary.add(b) for b in others}
    vocabulary.freeze()
    kept = vocabulary.could_match(a, numbers)
    assert kept <= numbers
    for number in numbers:
        if tokens_match(a, vocabulary.tokens[number]):
            assert number in kept, (a.text, vocabulary.tokens[number].text)


_NAME_PART = (
    st.sampled_from([t.text for t in EVALUATION_TOKENS])
    | st.from_regex(r"[a-z]{1,8}", fullmatch=True)
    | st.sampled_from(["al", "bin", "van", "trading", "oil", "ltd", "dr", "j", "m"])
)
_NAMES = st.lists(_NAME_PART, min_size=1, max_size=5).map(" ".join)


@settings(max_examples=4000, deadline=None)
@given(_NAMES, _NAMES)
def test_the_score_ceiling_is_never_under_the_score(query, entry):
    # The index skips the full comparison of a candidate whose ceiling is under the report
    # floor: the ceiling must never be under what names_compare gives.
    q, e = name_prepare(query), name_prepare(entry)
    if joins_meet(q, e) or not q.informative or not e.informative:
        return
    names = [t for t in q.informative if t.kind == NAME]
    query_hits = sum(any(tokens_match(a, b) for b in e.informative) for a in names)
    entry_hits = [any(tokens_match(a, b) for a in names) for b in e.informative]
    ceiling = score_ceiling(
        name_shape(q.informative), name_shape(e.informative), query_hits, entry_hits
    )
    assert ceiling >= names_compare(q, e).score - 1e-12, (query, entry)


def test_the_index_compares_exactly_what_a_pair_by_pair_screen_would_keep():
    # Every evaluation name listed in one index, every evaluation query screened: the
    # matches, scores and explanations are those of comparing each retrieved candidate in
    # full (names_may_match, names_compare), as before the vocabulary and the ceiling.
    rows = pairs_read()
    entries = sorted({row["entry"] for row in rows})
    sdn = index(*[(name, "person") for name in entries], countries=("IR",))
    for query in sorted({row["query"] for row in rows}):
        prepared = name_prepare(query)
        if not prepared.informative:
            continue
        candidates = sdn.candidates(prepared)[:MAX_CANDIDATES]
        expected = {
            sdn.names[p].entry_id: names_compare(prepared, sdn.prepared[p])
            for p in candidates
            if names_may_match(prepared, sdn.prepared[p])
        }
        expected = {k: c for k, c in expected.items() if c.score >= REPORT_FLOOR}
        found = {m.entry_id: m.comparison for m in sdn.screen(Party(query))}
        best = sorted(expected, key=lambda k: (-expected[k].score, k))[: len(found)]
        assert len(found) == min(len(expected), MAX_MATCHES), query
        assert {k: expected[k] for k in best} == found, query
