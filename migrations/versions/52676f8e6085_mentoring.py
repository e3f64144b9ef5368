"""Mentoring (formación): the mentor directory with declared conflicts, a team's mentoring over eight weekly
slots, the sessions the mentor logs, the team's comments, and one reminder per week without a session.

Revision ID: 52676f8e6085
Revises: 151a50796e3e
Create Date: 2026-11-26 01:22:12.077707

"""
from alembic import op
import sqlalchemy as sa

import idea.models


# revision identifiers, used by Alembic.
revision = '52676f8e6085'
down_revision = '151a50796e3e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mentor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('universidad', 'empresa', 'organismo_publico', 'sociedad_civil', name='tipoorganizacionmentor', native_enum=False, length=30), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('region', sa.String(length=2), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active_count', sa.Integer(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('active_count >= 0 AND active_count <= capacity', name=op.f('ck_mentor_within_capacity')),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_mentor_capacity_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mentor_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mentor_user_id'))
    )
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_region'), ['region'], unique=False)

    op.create_table('conflicto_mentor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('rut', sa.String(length=12), nullable=True),
    sa.Column('equipo_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rut IS NOT NULL OR equipo_id IS NOT NULL', name=op.f('ck_conflicto_mentor_target')),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_conflicto_mentor_equipo_id_equipo'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], name=op.f('fk_conflicto_mentor_mentor_id_mentor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflicto_mentor'))
    )
    with op.batch_alter_table('conflicto_mentor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicto_mentor_equipo_id'), ['equipo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicto_mentor_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('mentoria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipo_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('activa', 'finalizada', name='estadomentoria', native_enum=False, length=30), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_mentoria_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_mentoria_equipo_id_equipo'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], name=op.f('fk_mentoria_mentor_id_mentor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoria')),
    sa.UniqueConstraint('equipo_id', 'mentor_id', name='uq_mentoria_equipo_mentor')
    )
    with op.batch_alter_table('mentoria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoria_equipo_id'), ['equipo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentoria_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('recordatorio_mentoria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentoria_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('sent_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mentoria_id'], ['mentoria.id'], name=op.f('fk_recordatorio_mentoria_mentoria_id_mentoria'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordatorio_mentoria')),
    sa.UniqueConstraint('mentoria_id', 'week', name='uq_recordatorio_mentoria')
    )
    with op.batch_alter_table('recordatorio_mentoria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordatorio_mentoria_mentoria_id'), ['mentoria_id'], unique=False)

    op.create_table('sesion_mentoria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentoria_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.Column('agreements', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('duration_minutes >= 1 AND duration_minutes <= 600', name=op.f('ck_sesion_mentoria_duration')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sesion_mentoria_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mentoria_id'], ['mentoria.id'], name=op.f('fk_sesion_mentoria_mentoria_id_mentoria'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sesion_mentoria'))
    )
    with op.batch_alter_table('sesion_mentoria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sesion_mentoria_mentoria_id'), ['mentoria_id'], unique=False)

    op.create_table('comentario_sesion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sesion_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sesion_id'], ['sesion_mentoria.id'], name=op.f('fk_comentario_sesion_sesion_id_sesion_mentoria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_comentario_sesion_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comentario_sesion'))
    )
    with op.batch_alter_table('comentario_sesion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comentario_sesion_sesion_id'), ['sesion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comentario_sesion_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('comentario_sesion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comentario_sesion_user_id'))
        batch_op.drop_index(batch_op.f('ix_comentario_sesion_sesion_id'))

    op.drop_table('comentario_sesion')
    with op.batch_alter_table('sesion_mentoria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sesion_mentoria_mentoria_id'))

    op.drop_table('sesion_mentoria')
    with op.batch_alter_table('recordatorio_mentoria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordatorio_mentoria_mentoria_id'))

    op.drop_table('recordatorio_mentoria')
    with op.batch_alter_table('mentoria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoria_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_mentoria_equipo_id'))

    op.drop_table('mentoria')
    with op.batch_alter_table('conflicto_mentor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicto_mentor_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_conflicto_mentor_equipo_id'))

    op.drop_table('conflicto_mentor')
    with op.batch_alter_table('mentor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_region'))

    op.drop_table('mentor')
