"""Evaluación: rubrics, reviewer assignment and scoring, popular vote, committee ranking and selection."""
