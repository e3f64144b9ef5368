"""WSGI entry point: `gunicorn wsgi:app`, and what `flask run` finds in this folder."""

from idea import create_app

app = create_app()
