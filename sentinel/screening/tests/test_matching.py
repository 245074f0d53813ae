"""The matcher per category (no database): what must match, what must not, and why."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.screening.default_rules import MATCH_SCORE
from sentinel.screening.evaluation.report import evaluate
from sentinel.screening.matching.index import ListedName, Party, ScreeningIndex
from sentinel.screening.matching.names import Token, name_prepare, token_make
from sentinel.screening.matching.scoring import (
    TOKEN_MATCH,
    _could_match,
    _token_similarity,
    names_score,
)

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
    assert sdn.candidates(sdn.prepared[-1]) == {2000}
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
