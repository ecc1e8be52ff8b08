"""A notice's readable text, with a map from each of its characters back to the input.

The analyser reads plain prose; a privacy notice (GDPR Art. 13/14) often comes as HTML or
Markdown. `readable(raw, media_type)` returns the prose and, for every character of it, the
`[start, end)` range of code points in `raw` that produced it, so that evidence found in the
prose is quoted from the input as given.

- `text/plain`: the text itself, each character mapping to itself.
- `text/html`: parsed with the standard library's `html.parser`, an HTML5-conformant
  tokenizer (character references by the HTML5 table, raw-text elements such as `script`,
  unclosed tags). It is the parser that reports the source position of every event
  (`getpos()`), so text and each character reference map back to exact offsets. lxml,
  selectolax (lexbor) and html5lib build trees without character offsets for text nodes, and
  BeautifulSoup keeps positions of tags only, so none of them could map a span back.
  `script`, `style`, `template`, `noscript` and `head` metadata are skipped; block elements and
  `<br>` end a line so that sentences do not run across them.
- `text/markdown`: parsed with markdown-it-py (CommonMark). Block tokens carry line maps;
  the text of each inline run is located in its lines of the source, so markup (`**`, `#`,
  link targets, escapes) is dropped and every character of the prose points at its source
  character. Fenced and indented code is skipped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token

MEDIA_TYPES = ("text/plain", "text/markdown", "text/html")

_SKIPPED = {"script", "style", "template", "noscript", "head", "svg", "math"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "td", "th", "title", "tr", "ul", "body", "html",
}  # fmt: skip


@dataclass(frozen=True)
class Readable:
    """Prose and, per character of it, the `[start, end)` range in the input it came from."""

    text: str
    starts: list[int]
    ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The input range of the prose range `[start, end)` (end > start)."""
        return self.starts[start], self.ends[end - 1]


# no-break and narrow spaces read as spaces (one code point for one: offsets stay put)
_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " "})


def identity(raw: str) -> Readable:
    return Readable(raw.translate(_SPACES), list(range(len(raw))), list(range(1, len(raw) + 1)))


def readable(raw: str, media_type: str = "text/plain") -> Readable:
    """The prose of `raw` read as `media_type`; ValueError for an unknown media type."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "text/plain":
        return identity(raw)
    if kind == "text/html":
        return _html(raw)
    if kind == "text/markdown":
        return _markdown(raw)
    raise ValueError(f"unknown media type {media_type!r}: use one of {', '.join(MEDIA_TYPES)}")


class _Builder:
    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, text: str, start: int) -> None:
        """Text copied verbatim from the input at `start`."""
        for i, char in enumerate(text):
            self.chars.append(char)
            self.starts.append(start + i)
            self.ends.append(start + i + 1)

    def add_replaced(self, text: str, start: int, end: int) -> None:
        """Text that stands for the whole input range `[start, end)` (a reference, a break)."""
        for char in text:
            self.chars.append(char)
            self.starts.append(start)
            self.ends.append(end)

    def newline(self, at: int) -> None:
        if self.chars and self.chars[-1] != "\n":
            self.add_replaced("\n", at, at)

    def build(self) -> Readable:
        return Readable("".join(self.chars).translate(_SPACES), self.starts, self.ends)


class _HtmlReader(HTMLParser):
    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=False)
        self.raw = raw
        self.out = _Builder()
        self.line_starts = [0]
        for i, char in enumerate(raw):
            if char == "\n":
                self.line_starts.append(i + 1)
        self.skipping: list[str] = []
        self.in_head = False

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
            return
        if tag in _SKIPPED:
            self.skipping.append(tag)
        if tag in _BLOCK:
            self.out.newline(self._offset())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.out.newline(self._offset())

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
            return
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        if tag in _BLOCK:
            self.out.newline(self._offset())

    def handle_data(self, data: str) -> None:
        if self.skipping or self.in_head:
            return
        start = self._offset()
        # the parser hands over the source text unchanged (character references come apart)
        if self.raw.startswith(data, start):
            self.out.add(data, start)
        else:  # pragma: no cover - html.parser passes data verbatim
            self.out.add_replaced(data, start, start + len(data))

    def _reference(self, decoded: str) -> None:
        if self.skipping or self.in_head:
            return
        start = self._offset()
        end = start + 1
        while end < len(self.raw) and self.raw[end - 1] != ";" and end - start < 40:
            if self.raw[end] in "<&" or self.raw[end].isspace():
                break
            end += 1
        self.out.add_replaced(decoded, start, end)

    def handle_entityref(self, name: str) -> None:
        self._reference(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._reference(html.unescape(f"&#{name};"))


def _html(raw: str) -> Readable:
    reader = _HtmlReader(raw)
    reader.feed(raw)
    reader.close()
    return reader.out.build()


_MARKDOWN = MarkdownIt("commonmark")


def _markdown(raw: str) -> Readable:
    line_starts = [0]
    for i, char in enumerate(raw):
        if char == "\n":
            line_starts.append(i + 1)
    line_starts.append(len(raw) + 1)
    out = _Builder()
    for token in _MARKDOWN.parse(raw):
        if token.type != "inline" or token.map is None:
            continue
        first, last = token.map
        start = line_starts[min(first, len(line_starts) - 1)]
        end = min(line_starts[min(last, len(line_starts) - 1)], len(raw))
        out.newline(start)
        _inline(raw, token.children or [], start, end, out)
        out.newline(end)
    return out.build()


def _inline(raw: str, children: list[Token], cursor: int, end: int, out: _Builder) -> int:
    for child in children:
        if child.type in {"text", "code_inline"}:
            cursor = _locate(raw, child.content, cursor, end, out)
        elif child.type in {"softbreak", "hardbreak"}:
            newline = raw.find("\n", cursor, end)
            at = newline if newline >= 0 else cursor
            out.add_replaced("\n", at, at + 1 if newline >= 0 else at)
            cursor = at + 1 if newline >= 0 else cursor
        elif child.children:
            cursor = _inline(raw, child.children, cursor, end, out)
    return cursor


def _locate(raw: str, text: str, cursor: int, end: int, out: _Builder) -> int:
    """Copy `text` into the prose, mapping it to where it stands in `raw[cursor:end]`."""
    found = raw.find(text, cursor, end)
    if found >= 0:
        out.add(text, found)
        return found + len(text)
    # escapes or character references changed the text: align character by character
    for char in text:
        at = cursor
        while at < end and at - cursor < 12:
            if raw[at] == char:
                out.add(char, at)
                cursor = at + 1
                break
            if raw[at] == "&":
                semicolon = raw.find(";", at, min(end, at + 40))
                if semicolon > at and html.unescape(raw[at : semicolon + 1]) == char:
                    out.add_replaced(char, at, semicolon + 1)
                    cursor = semicolon + 1
                    break
            at += 1
        else:
            out.add_replaced(char, cursor, cursor)
    return cursor
