"""Every example the UI gives must pass its own validator: a person who copies the example's shape (or the
example itself) must not be refused. Scans the templates, the code's strings and the Spanish catalog for
example RUTs, amounts, e-mail addresses and phone numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email

from idea import chile

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted((ROOT / "templates").rglob("*.html")),
    *sorted((ROOT / "templates").rglob("*.txt")),
    *[p for package in ("idea", "convocatorias", "evaluacion", "pilotos")
      for p in sorted((ROOT / package).rglob("*.py"))],
    ROOT / "idea" / "translations" / "es" / "LC_MESSAGES" / "messages.po",
]

RUT = re.compile(r"(?<![\d.])(?:\d{1,2}\.\d{3}\.\d{3}|\d{7,8})-[\dkK](?![\w])")
AMOUNT = re.compile(r"\$\s?\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![\d.])")
EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE = re.compile(r"\+56[\d ]{8,14}\d")


def _examples(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    found = []
    for path in SOURCES:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".po":  # obsolete entries ("#~") are no longer shown
                text = "\n".join(line for line in text.splitlines() if not line.startswith("#~"))
            for match in pattern.finditer(text):
                found.append((str(path.relative_to(ROOT)), match.group(0)))
    return found


def test_the_scanner_finds_the_examples_it_should() -> None:
    ruts = {text for _path, text in _examples(RUT)}
    assert "12.345.678-5" in ruts and "65.123.456-5" in ruts
    assert {text for _path, text in _examples(AMOUNT)} >= {"$25.000.000", "$20.000.000"}


@pytest.mark.parametrize(("path", "text"), _examples(RUT))
def test_every_example_rut_is_valid(path: str, text: str) -> None:
    assert chile.is_valid_rut(text), f"{path}: the example RUT {text} fails the RUT check"


@pytest.mark.parametrize(("path", "text"), _examples(AMOUNT))
def test_every_example_amount_parses(path: str, text: str) -> None:
    assert chile.parse_clp(text) > 0, f"{path}: {text}"


@pytest.mark.parametrize(("path", "text"), _examples(EMAIL))
def test_every_example_email_is_valid(path: str, text: str) -> None:
    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:  # pragma: no cover - the message is the point
        pytest.fail(f"{path}: the example e-mail {text} is refused: {error}")


@pytest.mark.parametrize(("path", "text"), _examples(PHONE) or [("none", "+56 9 1234 5678")])
def test_every_example_phone_is_a_chilean_number(path: str, text: str) -> None:
    digits = re.sub(r"\D", "", text)
    # +56, then 9 digits: a mobile (9 ...) or a landline with its area code.
    assert len(digits) == 11 and digits[2] in "23456789", f"{path}: {text}"
