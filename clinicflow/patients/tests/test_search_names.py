"""The patient search by a Cyrillic or a Chinese name: any case, any order of the words, and a
Chinese name typed without the space between surname and given name."""

from __future__ import annotations

import pytest

from clinicflow.patients.selectors import PatientFilters, patient_list
from clinicflow.patients.tests.factories import make_patient


@pytest.fixture
def named(org):  # type: ignore[no-untyped-def]
    return {
        "ivanova": make_patient(org, last_name="Иванова", first_name="Анна", phones=["+79161112233"]),
        "ivanov": make_patient(org, last_name="Иванов", first_name="Сергей", phones=["+79161112234"]),
        "wang": make_patient(org, last_name="王", first_name="芳", phones=["+8613800138000"]),
        "wang_li": make_patient(org, last_name="王", first_name="丽", phones=["+8613800138001"]),
        "ouyang": make_patient(org, last_name="欧阳", first_name="娜娜", phones=["+8613800138002"]),
    }


def found(org, q: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.full_name for p in patient_list(org=org, filters=PatientFilters(q=q))}


def test_a_cyrillic_name_is_found_in_any_case_and_order(org, named) -> None:
    assert found(org, "ИВАНОВА") == {"Иванова Анна"}
    assert found(org, "анна иванова") == {"Иванова Анна"}
    assert found(org, "иванов") == {"Иванова Анна", "Иванов Сергей"}
    assert found(org, "Петрова") == set()


def test_a_chinese_name_is_found_with_or_without_the_space(org, named) -> None:
    assert found(org, "王芳") == {"王 芳"}
    assert found(org, "王 芳") == {"王 芳"}
    assert found(org, "王") == {"王 芳", "王 丽"}
    assert found(org, "欧阳娜娜") == {"欧阳 娜娜"}
    assert found(org, "芳王") == set()  # the given name before the surname is another name
