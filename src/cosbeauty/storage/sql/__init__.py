"""The one query layer of the metadata stores.

Every query is written once, in the SQL that SQLite and PostgreSQL share, in the modules that own
the data (``storage/local.py``, ``storage/versions.py``, ``iam/store.py``, ``ci/metering.py``,
``ci/activation.py``). A job receives a connection whose ``execute(sql, params)`` runs it:

* SQLite (the embedded default): the ``sqlite3`` connection itself -- the SQL text runs unchanged,
  so the default costs exactly what it did.
* PostgreSQL (``--metadata postgresql://...``): :class:`~cosbeauty.storage.postgres.PgDatabase`
  hands jobs a connection that passes each statement through :class:`~.dialect.PostgresDialect`
  first: placeholders (``?``, ``:name``), ``INSERT OR REPLACE`` / ``INSERT OR IGNORE`` (to
  ``ON CONFLICT``, from the primary keys in the schema) and the schema's column types. Translations
  are cached per statement text.

The schema is the SQLite schema text (``storage/sqlite.py``, ``iam/store.py``, ``ci/metering.py``);
PostgreSQL's is derived from it and versioned (:mod:`.migrations`).
"""
