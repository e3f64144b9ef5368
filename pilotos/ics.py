"""iCalendar (RFC 5545) file of one workshop, written by hand: UTC times, escaped text, folded lines."""

from __future__ import annotations

from datetime import UTC, datetime

from pilotos.models import Taller


def _escape(text: str) -> str:
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded: CRLF then a space (never splitting a UTF-8 character)."""
    out: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def workshop_ics(taller: Taller, *, host: str, url: str, now: datetime) -> str:
    location = taller.place or taller.online_url
    description = taller.topic
    if taller.online_url:
        description = f"{description}\n{taller.online_url}" if description else taller.online_url
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Fondo IDEA//Formacion//ES",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:taller-{taller.id}@{host}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(taller.starts_at)}",
        f"DTEND:{_utc(taller.ends_at)}",
        f"SUMMARY:{_escape(taller.title)}",
        f"DESCRIPTION:{_escape(description)}",
        f"LOCATION:{_escape(location)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
