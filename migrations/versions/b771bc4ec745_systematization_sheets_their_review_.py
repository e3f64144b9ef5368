"""Closure: systematization sheets with review history and frozen figures, and learning-repository subscriptions

The sheet's search document is a tsvector ('spanish' configuration, GIN index) on PostgreSQL, written by
the application from its lowercased, unaccented `search_text`; on SQLite the column is plain text and the
search uses `search_text` with LIKE.

Revision ID: b771bc4ec745
Revises: 2fa8bf0dd629
Create Date: 2026-11-26 03:56:52.025551

"""
from alembic import op
import sqlalchemy as sa

import idea.models
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b771bc4ec745'
down_revision = '2fa8bf0dd629'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    search_vector_type = postgresql.TSVECTOR() if postgres else sa.Text()
    op.create_table('suscripcion_aprendizaje',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.Enum('grupo', 'region', name='tiposuscripcion', native_enum=False, length=10), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suscripcion_aprendizaje')),
    sa.UniqueConstraint('email', 'kind', 'value', name='uq_suscripcion_aprendizaje')
    )
    with op.batch_alter_table('suscripcion_aprendizaje', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suscripcion_aprendizaje_email'), ['email'], unique=False)

    op.create_table('sistematizacion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('piloto_id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('solution', sa.Text(), nullable=False),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('learnings', sa.Text(), nullable=False),
    sa.Column('scaling_conditions', sa.Text(), nullable=False),
    sa.Column('adopter', sa.String(length=40), nullable=False),
    sa.Column('adopter_other', sa.String(length=300), nullable=False),
    sa.Column('groups', sa.String(length=400), nullable=False),
    sa.Column('outcome', sa.Enum('escalar', 'ajustar', 'no_continuar', name='resultadopiloto', native_enum=False, length=20), nullable=True),
    sa.Column('status', sa.Enum('borrador', 'enviada', 'con_observaciones', 'publicada', name='estadosistematizacion', native_enum=False, length=20), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('desafio_id', sa.Integer(), nullable=True),
    sa.Column('desafio_title', sa.String(length=300), nullable=False),
    sa.Column('region', sa.String(length=2), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('search_vector', search_vector_type, nullable=True),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digested_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['desafio_id'], ['desafio.id'], name=op.f('fk_sistematizacion_desafio_id_desafio'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['piloto_id'], ['piloto.id'], name=op.f('fk_sistematizacion_piloto_id_piloto'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sistematizacion')),
    sa.UniqueConstraint('piloto_id', name=op.f('uq_sistematizacion_piloto_id'))
    )
    with op.batch_alter_table('sistematizacion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sistematizacion_desafio_id'), ['desafio_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sistematizacion_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sistematizacion_region'), ['region'], unique=False)
        batch_op.create_index('ix_sistematizacion_search_vector', ['search_vector'], unique=False, postgresql_using='gin')
        batch_op.create_index(batch_op.f('ix_sistematizacion_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_sistematizacion_year'), ['year'], unique=False)

    op.create_table('revision_sistematizacion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sistematizacion_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('enviada', 'observada', 'publicada', name='accionsistematizacion', native_enum=False, length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_revision_sistematizacion_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sistematizacion_id'], ['sistematizacion.id'], name=op.f('fk_revision_sistematizacion_sistematizacion_id_sistematizacion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_sistematizacion'))
    )
    with op.batch_alter_table('revision_sistematizacion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_sistematizacion_sistematizacion_id'), ['sistematizacion_id'], unique=False)


def downgrade():
    with op.batch_alter_table('revision_sistematizacion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_sistematizacion_sistematizacion_id'))

    op.drop_table('revision_sistematizacion')
    with op.batch_alter_table('sistematizacion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sistematizacion_year'))
        batch_op.drop_index(batch_op.f('ix_sistematizacion_status'))
        batch_op.drop_index('ix_sistematizacion_search_vector', postgresql_using='gin')
        batch_op.drop_index(batch_op.f('ix_sistematizacion_region'))
        batch_op.drop_index(batch_op.f('ix_sistematizacion_published_at'))
        batch_op.drop_index(batch_op.f('ix_sistematizacion_desafio_id'))

    op.drop_table('sistematizacion')
    with op.batch_alter_table('suscripcion_aprendizaje', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suscripcion_aprendizaje_email'))

    op.drop_table('suscripcion_aprendizaje')
