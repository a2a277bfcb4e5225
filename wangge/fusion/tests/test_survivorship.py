from datetime import UTC, datetime

from wangge.fusion.survivorship import Evidence, choose, union

OLD = datetime(2025, 1, 1, tzinfo=UTC)
NEW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_more_trusted_source_wins_over_a_newer_one():
    police = Evidence(1, 1, 0.95, OLD, "王伟")
    grid = Evidence(2, 2, 0.6, NEW, "王玮")
    choice = choose([grid, police])
    assert (choice.value, choice.record_id) == ("王伟", 1)
    assert choice.conflicting == ("王玮",)


def test_recency_decides_between_equally_trusted_sources():
    assert choose([Evidence(1, 1, 0.7, OLD, "a"), Evidence(2, 2, 0.7, NEW, "b")]).value == "b"


def test_a_person_s_resolution_is_kept_while_a_source_supports_it():
    evidence = [Evidence(1, 1, 0.95, OLD, "王伟"), Evidence(2, 2, 0.6, NEW, "王玮")]
    assert choose(evidence, preferred="王玮").value == "王玮"
    assert choose(evidence, preferred="gone").value == "王伟"


def test_empty_values_are_no_evidence():
    assert choose([Evidence(1, 1, 0.9, OLD, "")]).record_id is None


def test_union_keeps_every_phone_best_first():
    assert union([Evidence(1, 1, 0.5, OLD, "1"), Evidence(2, 2, 0.9, OLD, "2"), Evidence(3, 1, 0.5, OLD, "1")]) == [
        ("2", 2), ("1", 1)]
