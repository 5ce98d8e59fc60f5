"""Alembic environment: the engine comes from the caller (onewindow.kit.migrate.upgrade), which
has installed the domains and found their branches' folders."""

from alembic import context

from onewindow.kit import domain
from onewindow.kit.db import Base

# Not `domains.install()` here: that would put back the standard domains under a caller
# migrating others (a test's), after their folders were read.
domain.load_tables()
engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
