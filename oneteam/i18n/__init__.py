"""People-facing text: message catalogs per language (YAML) and Korean particle choice."""

from oneteam.i18n.catalog import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    language_from_environment,
    language_from_header,
    render,
)
from oneteam.i18n.josa import attach, has_final_consonant

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "attach",
    "has_final_consonant",
    "language_from_environment",
    "language_from_header",
    "render",
]
