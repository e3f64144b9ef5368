"""The official list of comunas: 346 with their CUT codes, each in its region, counted per region."""

from __future__ import annotations

from collections import Counter

from idea import chile, comunas

PER_REGION = {
    "15": 4, "01": 7, "02": 9, "03": 9, "04": 15, "05": 38, "13": 52, "06": 33, "07": 30, "16": 21, "08": 33,
    "09": 32, "14": 12, "10": 30, "11": 10, "12": 11,
}


def test_346_comunas_in_16_regions_with_the_official_count_per_region() -> None:
    assert len(comunas.COMUNAS) == 346
    assert Counter(c.region for c in comunas.COMUNAS) == PER_REGION
    assert set(PER_REGION) == set(chile.REGIONS_BY_CODE)


def test_cut_codes_are_five_digits_unique_and_name_unique() -> None:
    assert all(len(c.cut) == 5 and c.cut.isdigit() for c in comunas.COMUNAS)
    assert len({c.cut for c in comunas.COMUNAS}) == 346
    assert len({c.name for c in comunas.COMUNAS}) == 346


def test_well_known_codes() -> None:
    known = {"13101": "Santiago", "08101": "Concepción", "05101": "Valparaíso", "16101": "Chillán",
             "09101": "Temuco", "12401": "Natales", "11201": "Aysén", "13120": "Ñuñoa", "15101": "Arica",
             "14101": "Valdivia", "10101": "Puerto Montt", "01107": "Alto Hospicio"}
    assert {cut: comunas.by_cut(cut).name for cut in known} == known


def test_find_ignores_accents_and_case_and_knows_common_names() -> None:
    assert comunas.find("concepcion").cut == "08101"
    assert comunas.find("  ÑUÑOA ").cut == "13120"
    assert comunas.find("Puerto Natales").name == "Natales"
    assert comunas.find("La Calera").name == "Calera"
    assert comunas.find("Gotham") is None and comunas.find("") is None
    assert comunas.in_region("Concepción", "08") and not comunas.in_region("Concepción", "13")


def test_choices_group_every_comuna_under_its_region_north_to_south() -> None:
    groups = comunas.comuna_choices()
    assert list(groups) == [r.name for r in chile.REGIONS]
    assert sum(len(options) for options in groups.values()) == 346
    assert ("Santiago", "Santiago") in groups["Metropolitana de Santiago"]
