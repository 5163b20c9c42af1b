"""The translation catalogues, shared with the pages: ``web/static/i18n/<lang>.json``.

One flat JSON object per language (``"key": "text"`` with ``{name}`` placeholders); a language
is there when its file is. Chinese is the default and the fallback of every key. The pages load
the same files, all in one document (``GET /i18n.json``, :func:`bundle`, read by
``web/static/i18n.js``): a new language is a new file and nothing else. The server
prefers to send stable codes and let the page translate them; where it must write text itself
(the hand-over sheet, reports, notices in an API body), it uses :func:`t` with the request's
language (:func:`request_lang`: ``?lang=``, else ``Accept-Language``, else the default).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from api.settings import PROJECT_ROOT

CATALOGUES = PROJECT_ROOT / "web" / "static" / "i18n"
DEFAULT = "zh"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def languages() -> tuple[str, ...]:
    """The languages there are catalogues of: the default first, then by name."""
    found = sorted(p.stem for p in CATALOGUES.glob("*.json"))
    return (DEFAULT, *(lang for lang in found if lang != DEFAULT))


def default_lang() -> str:
    return DEFAULT


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of ``lang`` (a listed language), key -> text."""
    if lang not in languages():
        raise KeyError(f"no catalogue for {lang!r}; languages: {', '.join(languages())}")
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


def has(key: str, lang: str | None = None) -> bool:
    return key in catalogue(lang or default_lang()) or key in catalogue(default_lang())


def t(key: str, lang: str | None = None, **params) -> str:
    """The text of ``key`` in ``lang`` (else the default language; else the key itself), with
    ``{name}`` placeholders filled from ``params`` (unknown ones stay as they are)."""
    lang = lang if lang in languages() else default_lang()
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(default_lang()).get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text)


def pick(lang_param: str | None, accept_language: str | None) -> str:
    """The language to answer in: ``lang_param`` when it is a listed language, else the best
    listed language of an ``Accept-Language`` header (by q, then order), else the default."""
    langs = languages()
    if lang_param:
        base = lang_param.strip().lower().split("-")[0]
        if base in langs:
            return base
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q\s*=\s*([0-9.]+)", rest)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in langs and q > 0:
            ranked.append((-q, i, base))
    return min(ranked)[2] if ranked else default_lang()


def request_lang(request) -> str:
    """The language of a request (a Starlette ``Request``): ``?lang=``, ``Accept-Language``, default."""
    return pick(request.query_params.get("lang"), request.headers.get("accept-language"))


@functools.cache
def bundle() -> tuple[bytes, str]:
    """(JSON body, ETag) of every catalogue for the pages: ``{"languages": [...], "catalogues":
    {lang: {key: text}}}``, the default language first (the page's language switch goes round
    the list)."""
    doc = {"languages": list(languages()), "catalogues": {lang: catalogue(lang) for lang in languages()}}
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
