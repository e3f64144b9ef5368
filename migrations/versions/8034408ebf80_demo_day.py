"""Demo day: events per region or macro-zone with a four-helix jury, conflicts, pitch rubric scores and the final award per team.

Revision ID: 8034408ebf80
Revises: 0257d5321c51
Create Date: 2026-11-26 01:48:27.964735

"""
from alembic import op
import sqlalchemy as sa

import idea.models


# revision identifiers, used by Alembic.
revision = '8034408ebf80'
down_revision = '0257d5321c51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('demo_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convocatoria_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('starts_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('preparacion', 'abierto', 'cerrado', name='estadodemoday', native_enum=False, length=12), nullable=False),
    sa.Column('opened_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('budget >= 0', name=op.f('ck_demo_day_budget_not_negative')),
    sa.ForeignKeyConstraint(['convocatoria_id'], ['convocatoria.id'], name=op.f('fk_demo_day_convocatoria_id_convocatoria'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demo_day'))
    )
    with op.batch_alter_table('demo_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_demo_day_convocatoria_id'), ['convocatoria_id'], unique=False)

    op.create_table('criterio_pitch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demoday_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.CheckConstraint('weight > 0', name=op.f('ck_criterio_pitch_weight_positive')),
    sa.ForeignKeyConstraint(['demoday_id'], ['demo_day.id'], name=op.f('fk_criterio_pitch_demoday_id_demo_day'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterio_pitch'))
    )
    with op.batch_alter_table('criterio_pitch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterio_pitch_demoday_id'), ['demoday_id'], unique=False)

    op.create_table('jurado_demo_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demoday_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('helix', sa.Enum('estado', 'academia', 'empresa', 'sociedad_civil', name='helice', native_enum=False, length=20), nullable=False),
    sa.Column('organization', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['demoday_id'], ['demo_day.id'], name=op.f('fk_jurado_demo_day_demoday_id_demo_day'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_jurado_demo_day_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jurado_demo_day')),
    sa.UniqueConstraint('demoday_id', 'user_id', name='uq_jurado_demo_day')
    )
    with op.batch_alter_table('jurado_demo_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jurado_demo_day_demoday_id'), ['demoday_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jurado_demo_day_user_id'), ['user_id'], unique=False)

    op.create_table('adjudicacion_demo_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demoday_id', sa.Integer(), nullable=False),
    sa.Column('equipo_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('adjudicado', 'no_adjudicado', name='resultadodemoday', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('letter_sent_at', idea.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_adjudicacion_demo_day_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['demoday_id'], ['demo_day.id'], name=op.f('fk_adjudicacion_demo_day_demoday_id_demo_day'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_adjudicacion_demo_day_equipo_id_equipo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjudicacion_demo_day')),
    sa.UniqueConstraint('demoday_id', 'equipo_id', name='uq_adjudicacion_demo_day')
    )
    with op.batch_alter_table('adjudicacion_demo_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjudicacion_demo_day_demoday_id'), ['demoday_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjudicacion_demo_day_equipo_id'), ['equipo_id'], unique=False)

    op.create_table('conflicto_jurado',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurado_id', sa.Integer(), nullable=False),
    sa.Column('equipo_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_conflicto_jurado_equipo_id_equipo'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['jurado_id'], ['jurado_demo_day.id'], name=op.f('fk_conflicto_jurado_jurado_id_jurado_demo_day'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflicto_jurado')),
    sa.UniqueConstraint('jurado_id', 'equipo_id', name='uq_conflicto_jurado')
    )
    with op.batch_alter_table('conflicto_jurado', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflicto_jurado_equipo_id'), ['equipo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conflicto_jurado_jurado_id'), ['jurado_id'], unique=False)

    op.create_table('puntaje_pitch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jurado_id', sa.Integer(), nullable=False),
    sa.Column('equipo_id', sa.Integer(), nullable=False),
    sa.Column('criterio_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('scored_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 1 AND score <= 7', name=op.f('ck_puntaje_pitch_score_1_to_7')),
    sa.ForeignKeyConstraint(['criterio_id'], ['criterio_pitch.id'], name=op.f('fk_puntaje_pitch_criterio_id_criterio_pitch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['equipo_id'], ['equipo.id'], name=op.f('fk_puntaje_pitch_equipo_id_equipo'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['jurado_id'], ['jurado_demo_day.id'], name=op.f('fk_puntaje_pitch_jurado_id_jurado_demo_day'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_puntaje_pitch')),
    sa.UniqueConstraint('jurado_id', 'equipo_id', 'criterio_id', name='uq_puntaje_pitch')
    )
    with op.batch_alter_table('puntaje_pitch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_puntaje_pitch_criterio_id'), ['criterio_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_puntaje_pitch_equipo_id'), ['equipo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_puntaje_pitch_jurado_id'), ['jurado_id'], unique=False)



def downgrade():
    with op.batch_alter_table('puntaje_pitch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_puntaje_pitch_jurado_id'))
        batch_op.drop_index(batch_op.f('ix_puntaje_pitch_equipo_id'))
        batch_op.drop_index(batch_op.f('ix_puntaje_pitch_criterio_id'))

    op.drop_table('puntaje_pitch')
    with op.batch_alter_table('conflicto_jurado', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflicto_jurado_jurado_id'))
        batch_op.drop_index(batch_op.f('ix_conflicto_jurado_equipo_id'))

    op.drop_table('conflicto_jurado')
    with op.batch_alter_table('adjudicacion_demo_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjudicacion_demo_day_equipo_id'))
        batch_op.drop_index(batch_op.f('ix_adjudicacion_demo_day_demoday_id'))

    op.drop_table('adjudicacion_demo_day')
    with op.batch_alter_table('jurado_demo_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurado_demo_day_user_id'))
        batch_op.drop_index(batch_op.f('ix_jurado_demo_day_demoday_id'))

    op.drop_table('jurado_demo_day')
    with op.batch_alter_table('criterio_pitch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterio_pitch_demoday_id'))

    op.drop_table('criterio_pitch')
    with op.batch_alter_table('demo_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demo_day_convocatoria_id'))

    op.drop_table('demo_day')
