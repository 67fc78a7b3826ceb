"""Key rotation: re-encrypt every encrypted column under the primary key, then what each domain derives from the
key (the case domain's keyed search hashes) through the refreshers the domains register."""
import sqlalchemy as sa

from ..extensions import db
from . import crypto

BATCH = 500
_REFRESHERS: dict = {}


def after_rotation(name: str, refresh) -> None:
    """A domain recomputes what depends on the primary key; `refresh()` flushes and returns rows changed."""
    _REFRESHERS[name] = refresh


def encrypted_columns():
    """(table, column name) of every EncryptedText column in the models."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, crypto.EncryptedText):
                yield table, column.name


def rotate_all(plaintext_only=False) -> dict[str, int]:
    """Re-encrypt values (all, or only those still in plaintext); returns rows changed per column. Flushes."""
    changed = {}
    for table, name in encrypted_columns():
        pk = table.primary_key.columns.values()[0].name
        count, last = 0, None
        while True:
            query = f"SELECT {pk}, {name} FROM {table.name} WHERE {name} IS NOT NULL"
            params = {}
            if last is not None:
                query += f" AND {pk} > :last"
                params["last"] = last
            rows = db.session.execute(sa.text(query + f" ORDER BY {pk} LIMIT {BATCH}"), params).all()
            if not rows:
                break
            for key, raw in rows:
                if plaintext_only and crypto.is_encrypted(raw):
                    continue
                db.session.execute(sa.text(f"UPDATE {table.name} SET {name} = :value WHERE {pk} = :key"),
                                   {"value": crypto.rotate(raw), "key": key})
                count += 1
            last = rows[-1][0]
        changed[f"{table.name}.{name}"] = count
    for name, refresh in _REFRESHERS.items():
        changed[name] = refresh()
    return changed
