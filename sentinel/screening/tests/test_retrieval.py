"""Retrieval, compiled (stamps) and as plain Python (numpy), held to the rule written out name
by name; the index's caches; an index that reference counting alone frees (no database)."""

from __future__ import annotations

import gc
import random
import weakref

import pytest

from sentinel.screening.evaluation.report import pairs_read
from sentinel.screening.matching import positions
from sentinel.screening.matching.index import (
    MAX_CANDIDATES,
    MAX_MATCHES,
    REPORT_FLOOR,
    ListedName,
    Party,
    Recent,
    ScreeningIndex,
    _blocking,
)
from sentinel.screening.matching.names import NAME, PreparedName, name_prepare
from sentinel.screening.matching.scoring import names_compare, names_may_match

_SYLLABLES = [c + v for c in "bdfghklmnprstvz" for v in "aeiou"]
_FIRST = ["mohammed", "muhammad", "ivan", "maria", "john", "jon", "li", "abdul", "yusuf"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))


def _name(rng: random.Random) -> str:
    """Names whose blocks collide a lot, as bench.screening's do: common first names,
    surnames from few syllables, particles, companies, one-word names."""
    shape = rng.random()
    if shape < 0.1:
        return _word(rng)
    if shape < 0.2:
        return f"{_word(rng)} trading ltd"
    first = rng.choice(_FIRST) if rng.random() < 0.6 else _word(rng)
    middle = rng.choice(["", "al ", "bin ", f"{_word(rng)} "])
    return f"{first} {middle}{_word(rng)}"


def _listed(names: list[str]) -> ScreeningIndex:
    return ScreeningIndex(
        ListedName(number, "sdn", "sanctions", "person", name, "strong", (), ("IR",))
        for number, name in enumerate(names, start=1)
    )


def _keys(prepared: PreparedName) -> set[str]:
    """Every block a listed name is filed under (ScreeningIndex.__init__)."""
    keys = {key for _, block in _blocking(prepared) for key in block}
    return keys | {f"c{t.consonants}" for t in prepared.tokens if t.kind == NAME}


def _candidates_by_rule(sdn: ScreeningIndex, query: PreparedName) -> list[int]:
    """The retrieval rule, name by name: a name sharing blocks with two of the query's
    retrieving tokens whose positions do not overlap; with a single retrieving token, or a
    single name word, a one-word name sharing one."""
    blocks = [(covers, set(keys)) for covers, keys in _blocking(query)]
    blocks = [(covers, keys) for covers, keys in blocks if keys & sdn.postings.ranges.keys()]
    one_word_query = sum(t.kind == NAME for t in query.tokens) <= 1
    if not hasattr(sdn, "_test_keys"):
        sdn._test_keys = [
            (_keys(prepared), sum(t.kind == NAME for t in prepared.tokens) <= 1)
            for prepared in sdn.prepared
        ]
    found = []
    for position, (listed_keys, one_word) in enumerate(sdn._test_keys):
        sharing = [covers for covers, keys in blocks if keys & listed_keys]
        if len(blocks) == 1 or one_word_query:
            if sharing and one_word:
                found.append(position)
        elif any(not a & b for i, a in enumerate(sharing) for b in sharing[i + 1 :]):
            found.append(position)
    return found


@pytest.fixture(scope="module")
def generated():
    rng = random.Random(18)
    return _listed([_name(rng) for _ in range(3000)]), [_name(rng) for _ in range(300)]


@pytest.fixture(params=["stamped", "numpy"])
def passes(request, monkeypatch) -> None:
    """Compiled, the passes over positions and ids stamp arrays; as plain Python (no C
    compiler) numpy does them: every test using this runs both ways."""
    for name in ("shared", "ids_among", "holding"):
        monkeypatch.setattr(
            positions, f"_{name.upper()}", getattr(positions, f"_{name}_{request.param}")
        )


def test_retrieval_is_the_block_rule_on_names_that_collide(generated, passes):
    sdn, queries = generated
    for query in queries:
        prepared = name_prepare(query)
        assert sdn.candidates(prepared) == _candidates_by_rule(sdn, prepared), query


def test_stamps_start_again_from_clean_arrays_when_their_numbers_run_out(generated):
    sdn, queries = generated
    before = [sdn.screen(Party(query)) for query in queries[:40]]
    sdn.results.clear()
    for stamps in (sdn._stamps, sdn._vocabulary_stamps):
        stamps.number = 4_000_000_000  # the next pass would need a number past the limit

    after = [sdn.screen(Party(query)) for query in queries[:40]]

    assert [[(m.entry_id, m.score) for m in found] for found in after] == [
        [(m.entry_id, m.score) for m in found] for found in before
    ]
    assert sdn._stamps.number < 1_000 and sdn._vocabulary_stamps.number < 1_000


def test_rows_hold_each_names_ids_in_order_and_the_passes_read_them(passes):
    rows = positions.Rows([(4, 1), (), (2,), (1, 3, 0)])
    stamps = positions.Stamps(5)

    assert sorted(positions.ids_among([0, 2, 3], rows, stamps)) == [0, 1, 2, 3, 4]
    assert positions.ids_among([1], rows, stamps) == []
    assert positions.holding([3, 2, 1, 0], rows, {1}, stamps) == [(3, (1, 3, 0)), (0, (4, 1))]
    assert positions.holding([0, 3], rows, set(), stamps) == []


def test_retrieval_is_the_block_rule_on_the_evaluation_names():
    rows = pairs_read()
    sdn = _listed(sorted({row["entry"] for row in rows}))
    for query in sorted({row["query"] for row in rows})[::3]:
        prepared = name_prepare(query)
        assert sdn.candidates(prepared) == _candidates_by_rule(sdn, prepared), query


def test_the_index_compares_what_a_pair_by_pair_screen_would_keep_on_names_that_collide(
    generated, passes
):
    # As the evaluation's equivalence test (test_matching.py), on names whose blocks and
    # first names collide as on a large list: the pre-filter and the ceiling turn away only
    # names that score under the floor.
    sdn, queries = generated
    for query in queries:
        prepared = name_prepare(query)
        expected = {}
        for position in _candidates_by_rule(sdn, prepared)[:MAX_CANDIDATES]:
            if names_may_match(prepared, sdn.prepared[position]):
                comparison = names_compare(prepared, sdn.prepared[position])
                if comparison.score >= REPORT_FLOOR:
                    expected[sdn.names[position].entry_id] = comparison
        found = {m.entry_id: m.comparison for m in sdn.screen(Party(query))}
        best = sorted(expected, key=lambda k: (-expected[k].score, k))[: len(found)]
        assert len(found) == min(len(expected), MAX_MATCHES), query
        assert {k: expected[k] for k in best} == found, query


def test_results_are_kept_per_party_and_the_least_recently_used_dropped():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # "b" is now the least recently used
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    sdn = _listed(["Yusuf Ibrahim Al-Amri"])
    party = Party("Youssef Al Amri", country="YE")
    assert sdn.screen(party) is sdn.screen(party)
    assert len(sdn.results) == 1


def test_a_dropped_index_is_freed_by_reference_counting_alone(generated):
    # runtime.index_settle freezes the index out of the collector's sight: a reference cycle
    # through it would keep every replaced index alive for good.
    sdn = _listed([_name(random.Random(number)) for number in range(200)])
    sdn.screen(Party("Mohammed Al Babadu"))
    gone = weakref.ref(sdn)
    gc.disable()
    try:
        del sdn
        assert gone() is None
    finally:
        gc.enable()
