"""Pilotos: training, mentoring, demo day, execution reports, systematization, learning repository."""
