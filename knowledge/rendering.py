"""Markdown to safe HTML: the one way an article body (or any Markdown Tandem shows) becomes
HTML.

Two layers, so one mistake is not enough for a script to run:

1. markdown-it-py (CommonMark, maintained, the Python port of markdown-it) with raw HTML
   *off*: `<script>` typed into an article is shown as text, and its link validator already
   refuses `javascript:`, `vbscript:`, `file:` and `data:` URLs.
2. nh3 (the Rust ammonia sanitiser) with an explicit allowlist of tags, attributes and URL
   schemes cleans what markdown-it produced.

Decisions:

- Images are not embedded: a remote image in an article shown to customers is a tracking
  pixel and a way to put someone else's content on our pages, and articles have no
  attachments of their own. `![alt](url)` becomes a link to the image with its alt text.
- A single line break is kept (`breaks`): agents write steps one per line, not as
  paragraphs.
- Headings shift one level down (`#` becomes `<h2>`): the page's `<h1>` is the article's title.
- Every link gets `rel="noopener nofollow noreferrer"`; only http(s) and mailto URLs (and
  relative ones) survive.
- Table cells keep `text-align` (markdown-it's column alignment) and code blocks their
  `language-…` class, checked by value; every other `style` and `class` is dropped.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow noreferrer"

_ALIGN = re.compile(r"^text-align:(left|right|center)$")
_LANGUAGE = re.compile(r"^language-[A-Za-z0-9_+-]{1,30}$")


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return value if _ALIGN.match(value.replace(" ", "")) else None
    if attribute == "class":
        return value if element == "code" and _LANGUAGE.match(value) else None
    return value


def _heading_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    level = min(int(token.tag[1]) + 1, 6)
    return f"<h{level}>"


def _heading_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    level = min(int(tokens[idx].tag[1]) + 1, 6)
    return f"</h{level}>\n"


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = escapeHtml(self.renderInlineAsText(token.children, options, env)) or "image"
    src = escapeHtml(str(token.attrGet("src") or ""))
    return f'<a href="{src}">{alt}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("heading_open", _heading_open)
    md.add_render_rule("heading_close", _heading_close)
    md.add_render_rule("image", _image)
    return md


_MD = _parser()


def render_markdown(text: str | None) -> SafeString:
    """Markdown -> sanitised HTML, safe to put in a template as it is."""
    html = _MD.render(text or "")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 cleaned it with the allowlist above


def markdown_to_text(text: str | None) -> str:
    """The article as plain text (for a snippet or a reply that is sent as text): the
    rendered HTML with every tag removed."""
    html = _MD.render(text or "")
    html = re.sub(r"</(p|li|h\d|tr|blockquote|pre)>", "\n", html)
    plain = html_lib.unescape(nh3.clean(html, tags=set()))
    return re.sub(r"\n{3,}", "\n\n", plain).strip()
