"""Unbound Flask extensions, bound to the app in :func:`tracker.create_app`."""

from typing import TYPE_CHECKING, ClassVar

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.model import Model as FlaskSQLAlchemyModel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so that Alembic revisions can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model; carries the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:

    class Model(FlaskSQLAlchemyModel, Base):
        """What ``db.Model`` is: :class:`Base` with Flask-SQLAlchemy's model mixin.

        ``db.Model`` is built when ``db`` is created, so a type checker cannot use it as a
        base class; models subclass this name instead, which is ``db.Model`` itself at run
        time.
        """

        __abstract__ = True
        # Every model is mapped to a Table (DeclarativeBase types it as any FromClause).
        __table__: ClassVar[Table]

else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
