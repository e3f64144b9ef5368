"""Execution: evidence files of pilot reports (PDF, PNG or JPEG stored like submission attachments).

Revision ID: 2fa8bf0dd629
Revises: 25f38b16dfd5
Create Date: 2026-11-26 03:57:39.072680

"""
from alembic import op
import sqlalchemy as sa

import idea.models


# revision identifiers, used by Alembic.
revision = '2fa8bf0dd629'
down_revision = '25f38b16dfd5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidencia_reporte',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporte_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', idea.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reporte_id'], ['reporte_piloto.id'], name=op.f('fk_evidencia_reporte_reporte_id_reporte_piloto'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_evidencia_reporte_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidencia_reporte')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_evidencia_reporte_stored_name'))
    )
    with op.batch_alter_table('evidencia_reporte', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidencia_reporte_reporte_id'), ['reporte_id'], unique=False)



def downgrade():
    with op.batch_alter_table('evidencia_reporte', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidencia_reporte_reporte_id'))

    op.drop_table('evidencia_reporte')
