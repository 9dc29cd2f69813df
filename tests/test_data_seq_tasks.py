"""The generated task data of notebooks 09-10: deterministic, correct, unambiguous."""
import contextlib
import datetime as dt
import io
import re

import pytest

from rnncourse.data.dates import date_formats, date_pairs
from rnncourse.data.names import load_names, names_sha256, split_names
from rnncourse.data.number_words import (DIGIT_WORDS, number_pairs, number_to_words, spelled_digits,
                                         split_numbers)
from rnncourse.data.programs import make_program, program_pairs


def test_date_pairs_are_deterministic_under_a_seed():
    assert date_pairs(50, seed=3) == date_pairs(50, seed=3)
    assert date_pairs(50, seed=3) != date_pairs(50, seed=4)


def test_date_targets_are_iso_and_inputs_carry_the_four_digit_year():
    for written, iso in date_pairs(300, seed=0):
        date = dt.date.fromisoformat(iso)
        assert str(date.year) in written, (written, iso)
        assert re.search(r"\d{4}", written)


def test_date_formats_have_no_two_digit_years_or_month_first_numbers():
    formats = date_formats()
    assert len({loc for loc, _ in formats}) > 5 and len(formats) > 40
    for _, pattern in formats:
        assert "yy" not in pattern
        assert not re.match(r"^M{1,2}\W+d", pattern), pattern


def test_number_words_reorder_units_and_tens_in_german():
    assert number_to_words(21, "en") == "twenty-one"
    assert number_to_words(21, "de") == "einundzwanzig"
    assert number_pairs([345]) == [(number_to_words(345), number_to_words(345, "de"))]


def test_number_split_is_disjoint_and_complete():
    train, test = split_numbers(500, 100, seed=1)
    assert len(test) == 100 and not set(train) & set(test)
    assert sorted(set(train) | set(test)) == list(range(500))
    assert (split_numbers(500, 100, seed=1)[1] == test).all()


@pytest.mark.parametrize("max_digits", [1, 5, 16])
def test_spelled_digits_read_each_digit_as_its_word(max_digits):
    pairs = spelled_digits(400, max_digits=max_digits, seed=3)
    assert pairs == spelled_digits(400, max_digits=max_digits, seed=3)
    assert pairs != spelled_digits(400, max_digits=max_digits, seed=4) or max_digits == 1
    for source, digits in pairs:
        assert source.split(" ") == [DIGIT_WORDS[int(d)] for d in digits]
    assert {len(d) for _, d in pairs} == set(range(1, max_digits + 1))


def test_spelled_digits_rejects_bad_lengths():
    with pytest.raises(ValueError, match="min_digits <= max_digits"):
        spelled_digits(3, max_digits=2, min_digits=3)


def run_python(code):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})  # our own generated code, only in this test
    return out.getvalue().strip()


@pytest.mark.parametrize("digits,nesting", [(1, 1), (2, 2), (3, 4), (4, 6)])
def test_program_outputs_match_running_them(digits, nesting):
    for code, output in program_pairs(40, seed=0, digits=digits, nesting=nesting):
        assert run_python(code) == output, code


def test_programs_are_deterministic_and_digits_set_number_length():
    assert program_pairs(20, 5, 3, 2) == program_pairs(20, 5, 3, 2)
    assert program_pairs(20, 5, 3, 2) != program_pairs(20, 6, 3, 2)
    for code, _ in program_pairs(30, 0, digits=4, nesting=1):
        numbers = re.findall(r"(?<![\w*])\d+", code.replace("range(", "range( "))
        assert any(len(n) == 4 for n in numbers), code


def test_program_knobs_are_validated():
    import numpy as np
    with pytest.raises(ValueError, match="at least 1"):
        make_program(np.random.default_rng(0), digits=0, nesting=1)


def test_names_belong_to_exactly_one_language_and_are_stable():
    pairs = load_names()
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)) > 2000
    assert len({lang for _, lang in pairs}) >= 10
    assert names_sha256(pairs) == names_sha256(load_names())
    assert all(n.isalpha() and n == n.lower() for n in names)


def test_name_split_is_stratified_and_seeded():
    pairs = load_names(["German", "Italian", "Finnish"])
    train, test = split_names(pairs, 0.25, seed=0)
    assert sorted(train + test) == sorted(pairs)
    for lang in ("German", "Italian", "Finnish"):
        total = sum(l == lang for _, l in pairs)
        assert abs(sum(l == lang for _, l in test) - total / 4) <= 1
    assert split_names(pairs, 0.25, seed=0) == (train, test)
