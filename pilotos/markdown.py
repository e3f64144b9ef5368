"""Safe Markdown for training modules: rendered on the server with markdown-it-py (raw HTML off), then
sanitised with nh3 (an allow-list of tags and attributes; links only http, https and mailto)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> Markup:
    """The module's Markdown as safe HTML: no script, no event handler, no javascript: link, no image."""
    html = _md.render(text or "")
    # Headings of a module start at h2 (the page's own title is the h1).
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    # nh3 has just sanitised it with an allow-list: the only HTML that reaches a page unescaped.
    return Markup(clean)  # noqa: S704  # nosec B704
