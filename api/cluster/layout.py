"""Where the local Patroni cluster lives and on which ports (``GRIDGOV_CLUSTER_*``), and each node's
configuration rendered from ``patroni.yml.tmpl``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from pydantic_settings import BaseSettings, SettingsConfigDict

from api.settings import Settings

NODES = 3  # node1 and node2 may be primary or synchronous standby; node3 is the asynchronous replica
TEMPLATE = Path(__file__).with_name("patroni.yml.tmpl")


class ClusterSettings(BaseSettings):
    """The failover settings are written to etcd when the cluster is first bootstrapped."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_CLUSTER_", extra="ignore")

    etcd_port: int = 23790  # clients; peers on etcd_port + 10 (never a system etcd's 2379/2380)
    pg_port: int = 54341  # node n listens on pg_port + n - 1
    rest_port: int = 8341  # Patroni's REST API of node n on rest_port + n - 1
    ttl: int = 10
    loop_wait: int = 1
    retry_timeout: int = 4
    maximum_lag_on_failover: int = 1_048_576


@dataclass(frozen=True)
class Node:
    number: int
    name: str
    pg_port: int
    rest_port: int
    dir: Path

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def config(self) -> Path:
        return self.dir / "patroni.yml"

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


@dataclass(frozen=True)
class Layout:
    root: Path
    user: str
    database: str
    knobs: ClusterSettings

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        return cls(settings.data_dir / "cluster", settings.pg_user, settings.pg_database, ClusterSettings())

    @property
    def nodes(self) -> list[Node]:
        k = self.knobs
        return [Node(n, f"node{n}", k.pg_port + n - 1, k.rest_port + n - 1, self.root / f"node{n}")
                for n in range(1, NODES + 1)]

    @property
    def etcd_dir(self) -> Path:
        return self.root / "etcd"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.knobs.etcd_port}"

    @property
    def etcd_peer_url(self) -> str:
        return f"http://127.0.0.1:{self.knobs.etcd_port + 10}"

    def url(self, read_write: bool = True) -> str:
        """The multi-host URL the app uses (writes go to whichever node is primary)."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        attrs = "read-write" if read_write else "prefer-standby"
        return f"postgresql://{self.user}@{hosts}/{self.database}?target_session_attrs={attrs}"

    def node_url(self, node: Node, database: str | None = None) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{node.pg_port}/{database or self.database}"

    def render(self, node: Node, bin_dir: Path) -> str:
        k = self.knobs
        return Template(TEMPLATE.read_text()).substitute(
            name=node.name, rest_port=node.rest_port, etcd_port=k.etcd_port, ttl=k.ttl, loop_wait=k.loop_wait,
            retry_timeout=k.retry_timeout, maximum_lag=k.maximum_lag_on_failover, pg_port=node.pg_port,
            data_dir=node.data, bin_dir=bin_dir, node_dir=node.dir, user=self.user,
            nosync="true" if node.number == NODES else "false")
