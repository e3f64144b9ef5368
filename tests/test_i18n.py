"""Every UI string has a Spanish translation, the compiled catalog is current, and pages speak Spanish."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "idea/translations/es/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}


def _method_map() -> list[tuple[str, str]]:
    methods = []
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        if line.startswith("[") and ":" in line:
            method, pattern = line.strip("[]").split(":", 1)
            methods.append((pattern.strip(), method.strip()))
    return methods


# Directories that hold no UI strings. Unlike babel's default, names starting with "_" are walked
# (templates/_macros is UI).
SKIPPED_DIRS = ("__pycache__", "node_modules", "instance", ".venv")


def _walk(dirpath: str) -> bool:
    name = Path(dirpath).name
    return not (name.startswith(".") or name in SKIPPED_DIRS)


def _msgids_in_source() -> dict[tuple[str, str | None], str]:
    """(msgid, context) -> where it is first used."""
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map=_method_map(), keywords=KEYWORDS, directory_filter=_walk
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _catalog() -> Any:
    with PO.open("rb") as handle:
        return read_po(handle, locale="es")


def test_every_msgid_has_a_spanish_translation() -> None:
    catalog = _catalog()
    missing = []
    for (msgid, context), where in sorted(_msgids_in_source().items(), key=lambda item: item[1]):
        message = catalog.get(msgid, context=context)
        strings = message.string if message is not None else ""
        translated = all(strings) if isinstance(strings, tuple | list) else bool(strings)
        if message is None or not translated or message.fuzzy:
            missing.append(f"{where}: {msgid!r}" + (f" (context {context!r})" if context else ""))
    hint = "untranslated (run pybabel extract/update, translate, compile):\n"
    assert missing == [], hint + "\n".join(missing)


def test_compiled_catalog_is_current() -> None:
    buffer = io.BytesIO()
    write_mo(buffer, _catalog())
    assert MO.read_bytes() == buffer.getvalue(), "run: pybabel compile -d idea/translations"


def test_pages_are_in_spanish_by_default(client: Any) -> None:
    page = client.get("/cuenta/ingresar").get_data(as_text=True)
    assert 'lang="es"' in page
    assert "Ingresar" in page or "Iniciar sesión" in page


def test_the_language_switch_changes_the_page(client: Any) -> None:
    response = client.post("/idioma", data={"lang": "en", "next": "/cuenta/ingresar"})
    assert response.status_code == 302
    page = client.get("/cuenta/ingresar").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
