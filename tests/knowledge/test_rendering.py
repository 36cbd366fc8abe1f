"""knowledge.rendering: Markdown becomes HTML from an allowlist; scripts, event handlers,
javascript: URLs and embedded images never survive, whatever the spelling."""

from html.parser import HTMLParser

import pytest

from knowledge.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, markdown_to_text, render_markdown


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser would parse them."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html):
    parser = Elements()
    parser.feed(html)
    return parser.found


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](http://example.com/a.png)',
    '[x](http://example.com "a\\" onmouseover=\\"alert(1)")',
    "<svg onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '```" onmouseover=alert(1)\ncode\n```',
    "<details open ontoggle=alert(1)>",
]


@pytest.mark.parametrize("source", ATTACKS)
def test_nothing_executable_survives(source):
    html = str(render_markdown(source))
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, html
        rel = {"rel"} if tag == "a" else set()
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | rel, html
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(("http://", "https://", "mailto:", "/")), html


def test_the_allowed_markdown_renders():
    html = str(
        render_markdown(
            "# Workaround\n\nSteps:\n1. **Sign out**\n2. Clear `cookies`\n\n"
            "| Browser | Works |\n|:--|--:|\n| Safari | no |\n\n"
            "> quoted\n\n~~old~~ [docs](https://docs.example/x)\n\n```bash\nrm -rf cache\n```"
        )
    )
    assert "<h2>Workaround</h2>" in html  # the page's h1 is the article title
    assert "<ol>" in html and "<strong>Sign out</strong>" in html and "<code>cookies</code>" in html
    assert (
        '<th style="text-align:left">Browser</th>' in html and '<td style="text-align:right">no</td>' in html
    )
    assert "<blockquote>" in html and "<s>old</s>" in html
    assert '<a href="https://docs.example/x" rel="noopener nofollow noreferrer">docs</a>' in html
    assert '<code class="language-bash">rm -rf cache' in html
    assert "<p>first line<br>\nsecond line</p>" in str(render_markdown("first line\nsecond line"))


def test_an_image_becomes_a_link_to_it():
    html = str(render_markdown("![Screenshot of *the* error](https://cdn.example/shot.png)"))
    assert "<img" not in html
    link = '<a href="https://cdn.example/shot.png" rel="noopener nofollow noreferrer">'
    assert f"{link}Screenshot of the error</a>" in html


def test_plain_text_version():
    assert markdown_to_text("# Title\n\nSome **bold** &amp; [a link](https://x.example)") == (
        "Title\n\nSome bold & a link"
    )
    assert str(render_markdown("")) == "" and str(render_markdown(None)) == ""
