"""Alembic environment: the engine comes from the caller (onewindow.kit.db.upgrade)."""

from alembic import context

from onewindow.kit.db import Base
from onewindow.models import load_all

load_all()
engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
