"""LLM prompt templates, as files (Jinja2), shipped with the package.

Summaries and digests load their templates from here with importlib.resources, so a deployment can
review exactly what is sent to a model.
"""
