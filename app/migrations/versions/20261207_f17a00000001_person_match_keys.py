"""person match keys for duplicate detection

Adds the blocking keys duplicate detection looks persons up by (app/cases/matching.py): sound keys of the
first given name and of each surname, the birth year (or registration year minus the estimated age) and the
digits of the family contact's phone; indexes on them and on the birth date. Existing persons get their keys
computed in Python with today's matching code, in batches of 2,000 rows. The downgrade drops them.

Revision ID: f17a00000001
Revises: f16a00000001
Create Date: 2026-12-07 23:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f17a00000001'
down_revision = 'f16a00000001'
branch_labels = None
depends_on = None

BATCH = 2000
INDEXES = {
    "ix_persons_match_given_first": ["given_name_sound", "first_surname_sound", "birth_year"],
    "ix_persons_match_given_second": ["given_name_sound", "second_surname_sound", "birth_year"],
    "ix_persons_birth_date": ["birth_date"],
    "ix_persons_family_phone_digits": ["family_phone_digits"],
}


def upgrade():
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given_name_sound', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('first_surname_sound', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('second_surname_sound', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('family_phone_digits', sa.String(length=20), nullable=True))
    _backfill()
    with op.batch_alter_table('persons', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def _backfill():
    from app.cases.matching import birth_year, phone_digits, stored_keys

    connection = op.get_bind()
    persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("given_names", sa.String),
                       sa.column("first_surname", sa.String), sa.column("second_surname", sa.String),
                       sa.column("birth_date", sa.Date), sa.column("estimated_age", sa.Integer),
                       sa.column("created_at", sa.DateTime), sa.column("family_contact_phone", sa.String),
                       sa.column("given_name_sound", sa.String), sa.column("first_surname_sound", sa.String),
                       sa.column("second_surname_sound", sa.String), sa.column("birth_year", sa.Integer),
                       sa.column("family_phone_digits", sa.String))
    update = persons.update().where(persons.c.id == sa.bindparam("pid")).values(
        given_name_sound=sa.bindparam("g"), first_surname_sound=sa.bindparam("s1"),
        second_surname_sound=sa.bindparam("s2"), birth_year=sa.bindparam("y"), family_phone_digits=sa.bindparam("f"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(persons.c.id, persons.c.given_names, persons.c.first_surname, persons.c.second_surname,
                      persons.c.birth_date, persons.c.estimated_age, persons.c.created_at,
                      persons.c.family_contact_phone)
            .where(persons.c.id > last).order_by(persons.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = []
        for row in rows:
            keys = stored_keys(row.given_names, row.first_surname, row.second_surname)
            registered = row.created_at.year if row.created_at else 2026
            values.append({"pid": row.id, "g": keys["given_name_sound"], "s1": keys["first_surname_sound"],
                           "s2": keys["second_surname_sound"],
                           "y": birth_year(row.birth_date, row.estimated_age, registered),
                           "f": phone_digits(row.family_contact_phone)})
        connection.execute(update, values)
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('persons', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column('family_phone_digits')
        batch_op.drop_column('birth_year')
        batch_op.drop_column('second_surname_sound')
        batch_op.drop_column('first_surname_sound')
        batch_op.drop_column('given_name_sound')
