"""Convocatorias: calls, challenges, organisations, submissions, admissibility, public call pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from convocatorias import admisibilidad_models, labels, models, seed, views_public  # noqa: F401  (models: register the tables)

    app.register_blueprint(views_public.bp)
    labels.register(app)  # estado_label(), madurez_label(), tipo_label() in every template
    from convocatorias import audit_labels  # names and links of this package's audit events
    audit_labels.register(app)
    seed.connect()
    from convocatorias import lead_views  # the technical lead's pages, exports and `flask send-reminders`
    lead_views.init_app(app)
    from convocatorias import admin_views  # calls and challenges admin, menu entry, call choices for roles
    admin_views.init_app(app)
    from convocatorias import applicant_views  # the applicant area: organisation, submissions, attachments
    app.register_blueprint(applicant_views.bp)
    from convocatorias import admisibilidad_views  # checklist, decisions, reconsideration, phase guard
    admisibilidad_views.init_app(app)
