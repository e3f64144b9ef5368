"""Full form of the training teams (theory of change, budget, indicators, activities, risks) and its review history.

Revision ID: 0257d5321c51
Revises: 52676f8e6085
Create Date: 2026-11-26 01:40:10.045768

"""
from alembic import op
import sqlalchemy as sa

import idea.models


# revision identifiers, used by Alembic.
revision = '0257d5321c51'
down_revision = '52676f8e6085'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('formulario_completo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipo_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('borrador', 'enviado', 'con_observaciones', 'aceptado', name='estadoformulario', native_enum=False, length=20), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('activities', sa.Text(), nullable=False),
    sa.Column('outputs', sa.Text(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('presupuesto', sa.JSON(), nullable=False),
    sa.Column('indicadores', sa.JSON(), nullable=False),
    sa.Column('actividades', sa.JSON(), nullable=False),
    sa.Column('riesgos', sa.JSON(), nullable=False),
    sa.Column('submitted_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_formulario_completo_equipo_id_equipo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_formulario_completo')),
    sa.UniqueConstraint('equipo_id', name=op.f('uq_formulario_completo_equipo_id'))
    )
    op.create_table('revision_formulario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('formulario_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('enviado', 'observado', 'aceptado', name='accionrevision', native_enum=False, length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_revision_formulario_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['formulario_id'], ['formulario_completo.id'], name=op.f('fk_revision_formulario_formulario_id_formulario_completo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_formulario'))
    )
    with op.batch_alter_table('revision_formulario', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revision_formulario_formulario_id'), ['formulario_id'], unique=False)



def downgrade():
    with op.batch_alter_table('revision_formulario', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revision_formulario_formulario_id'))

    op.drop_table('revision_formulario')
    op.drop_table('formulario_completo')
