"""Multi-host database URLs (a Patroni cluster: ``postgresql://u@h1:p1,h2:p2,h3:p3/db?target_session_attrs=read-write``).

libpq reads the hosts from the URL's authority; SQLAlchemy (alembic, the sample loaders) cannot
parse a comma in the port and wants them as repeated ``host=h:p`` query parameters instead. The
settings keep one URL in SQLAlchemy's form (:func:`to_sqlalchemy`) and psycopg gets libpq's
(:func:`to_libpq`); a single-host URL passes both unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def _split_hosts(netloc: str) -> tuple[str, list[str]]:
    """(``user[:password]@`` or "", the ``host[:port]`` entries) of an authority."""
    userinfo, _, hosts = netloc.rpartition("@")
    return (userinfo + "@" if userinfo else ""), [h for h in hosts.split(",") if h]


def to_sqlalchemy(url: str) -> str:
    """``scheme://u@h1:p1,h2:p2/db?x=y`` -> ``scheme://u@/db?host=h1:p1&host=h2:p2&x=y`` (else unchanged)."""
    parts = urlsplit(url)
    userinfo, hosts = _split_hosts(parts.netloc)
    if len(hosts) < 2:
        return url
    query = urlencode([("host", h) for h in hosts] + parse_qsl(parts.query, keep_blank_values=True), safe=":/")
    return urlunsplit((parts.scheme, userinfo, parts.path, query, parts.fragment))


def to_libpq(url: str) -> str:
    """The inverse of :func:`to_sqlalchemy`: two or more ``host=h:p`` parameters back into the authority."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    hosts = [v for k, v in pairs if k == "host"]
    if len(hosts) < 2 or any(h.startswith("/") for h in hosts):
        return url
    userinfo, _ = _split_hosts(parts.netloc)
    rest = urlencode([(k, v) for k, v in pairs if k != "host"], safe=":/")
    return urlunsplit((parts.scheme, userinfo + ",".join(hosts), parts.path, rest, parts.fragment))


def hosts_of(url: str) -> list[str]:
    """The ``host:port`` entries of a URL in either form (one entry for a single host)."""
    parts = urlsplit(to_libpq(url))
    return _split_hosts(parts.netloc)[1]
