"""personal data encrypted

Revision ID: f5c3b2d4e6a7
Revises: e4b2a1c3d5f6
Create Date: 2026-12-01 17:40:00

The columns classified personal hold ciphertext (elearn.security.fields: "v1:<key id>:<base64>", longer than the
plain value, so they widen to TEXT); names, phone numbers and e-mail addresses get keyed-hash companions for
exact look-ups (the lecturer name's index moves to its hash, as an index of ciphertext finds nothing). Rows
written before are encrypted here under the keyring's current key (instance/pii_keys.json or ELEARN_PII_KEYS);
values already in the "v1:" form are left as they are, so running it over a half-converted database is safe.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f5c3b2d4e6a7'
down_revision = 'e4b2a1c3d5f6'
branch_labels = None
depends_on = None

# The columns as they were at this revision: (table, column, plain length, nullable).
ENCRYPTED = [
    ('user_account', 'name', 100, False),
    ('user_account', 'phone', 30, True),
    ('user_account', 'email', 200, True),
    ('user_account', 'exempt_reason', 200, True),
    ('login_session', 'ip', 45, False),
    ('lecturer', 'name', 100, False),
    ('lecturer', 'phone', 30, True),
]
HASHES = {'user_account': [('name_hash', 'name'), ('phone_hash', 'phone'), ('email_hash', 'email')],
          'lecturer': [('name_hash', 'name')]}
KEYS = {'user_account': 'id', 'login_session': 'id', 'lecturer': 'id'}


def _tables():
    # Imported here: the app's code is needed only to encrypt (with the app's keyring), not to read the chain.
    from elearn.security.rotation import EncryptedTable
    out = []
    for name, key in KEYS.items():
        cols = tuple(c for t, c, _n, _null in ENCRYPTED if t == name)
        out.append(EncryptedTable(name, key, cols, tuple(HASHES.get(name, []))))
    return out


def upgrade():
    # Imported here: the keyring needs the running app (flask db upgrade runs inside one).
    from elearn.security.fields import current_keyring
    from elearn.security.rotation import reencrypt_in

    for table in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, length, nullable in ENCRYPTED:
                if t == table:
                    batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text(),
                                          existing_nullable=nullable)
            for hash_column, _source in HASHES.get(table, []):
                batch_op.add_column(sa.Column(hash_column, sa.String(length=100), nullable=True))
                batch_op.create_index(batch_op.f(f'ix_{table}_{hash_column}'), [hash_column], unique=False)
            if table == 'lecturer':
                batch_op.drop_index('ix_lecturer_name')
    reencrypt_in(op.get_bind(), current_keyring(), _tables(), accept_plaintext=True)


def downgrade():
    # Imported here: decrypting needs the running app's keyring.
    from elearn.security.fields import current_keyring, decrypt_with, key_id_of

    ring = current_keyring()
    conn = op.get_bind()
    for t, column, _length, _nullable in ENCRYPTED:
        table = sa.table(t, sa.column(KEYS[t]), sa.column(column))
        for pk, stored in conn.execute(sa.select(table.c[KEYS[t]], table.c[column])).all():
            if stored is not None and key_id_of(stored) is not None:
                conn.execute(sa.update(table).where(table.c[KEYS[t]] == pk)
                             .values({column: decrypt_with(ring.get, stored, f'{t}.{column}')}))
    for table in KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'lecturer':
                batch_op.create_index('ix_lecturer_name', ['name'], unique=False)
            for hash_column, _source in HASHES.get(table, []):
                batch_op.drop_index(batch_op.f(f'ix_{table}_{hash_column}'))
                batch_op.drop_column(hash_column)
            for t, column, length, nullable in ENCRYPTED:
                if t == table:
                    batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length),
                                          existing_nullable=nullable)
