"""Alembic environment: the URL comes from gridgov settings (or -x url=...)."""

from alembic import context
from sqlalchemy import create_engine, pool

from api.settings import get_settings

config = context.config
url = (context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
       or get_settings().url)


def run_migrations_offline() -> None:
    context.configure(url=url, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
