"""Same seed and arguments give the same bytes; another seed gives another county; limits hold."""

from __future__ import annotations

import pytest

from disburse.dev.generator import HOUSEHOLDS_MAX, HOUSEHOLDS_MIN, MESSY_HOUSEHOLDS_MAX, generate_county


def file_bytes(county) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in county.paths()}


@pytest.mark.parametrize("messy", [False, True])
def test_same_seed_gives_identical_files(tmp_path, messy):
    first = generate_county(tmp_path / "first", 150, seed=5, messy=messy)
    second = generate_county(tmp_path / "second", 150, seed=5, messy=messy)
    assert file_bytes(first) == file_bytes(second)
    assert len(first.paths()) == 10
    assert first.households >= 150 and first.people > 300


def test_another_seed_gives_another_county(tmp_path):
    first = file_bytes(generate_county(tmp_path / "first", 150, seed=5))
    other = file_bytes(generate_county(tmp_path / "other", 150, seed=6))
    assert first.keys() == other.keys()
    for name in first:
        assert first[name] != other[name], name


def test_counts_reported_match_the_files(clean_county, registers, shares):
    assert clean_county.people == len(registers[-1])
    assert clean_county.households == len({row["户编号"] for row in registers[-1]})
    assert clean_county.share_rows == len(shares)
    assert 8 <= clean_county.towns <= 20
    assert 10 * clean_county.towns <= clean_county.villages <= 30 * clean_county.towns


@pytest.mark.parametrize("households", [HOUSEHOLDS_MIN - 1, HOUSEHOLDS_MAX + 1, 0, -5])
def test_household_count_outside_the_limits_is_refused(tmp_path, households):
    with pytest.raises(ValueError, match="households"):
        generate_county(tmp_path, households, seed=1)
    assert not any(tmp_path.iterdir())


def test_messy_county_size_is_limited(tmp_path):
    with pytest.raises(ValueError, match="messy"):
        generate_county(tmp_path, MESSY_HOUSEHOLDS_MAX + 1, seed=1, messy=True)


@pytest.mark.parametrize("households", [100.0, True, "100"])
def test_household_count_must_be_an_int(tmp_path, households):
    with pytest.raises(TypeError):
        generate_county(tmp_path, households, seed=1)
