"""Alembic environment: the engine comes from the caller (onewindow.kit.db.upgrade)."""

from alembic import context

from onewindow import domains
from onewindow.kit import domain
from onewindow.kit.db import Base

domains.install()
domain.load_tables()
engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
