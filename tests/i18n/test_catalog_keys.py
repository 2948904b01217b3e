"""Every message key the code names exists in both catalogs (nothing prints a raw key such as
`error.config`), and no YAML file of the package has a key YAML 1.1 reads as a boolean (`off:`)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from oneteam.i18n.catalog import _catalog

PACKAGE = Path(__file__).resolve().parents[2] / "oneteam"
# A dotted literal whose last part is one of these names a file ("thinq.yaml", "epidemic.key"),
# not a message.
FILE_SUFFIXES = frozenset(
    {"yaml", "yml", "json", "key", "passwd", "acl", "credentials", "sqlite3", "pem", "txt"}
)


@cache
def _catalogs() -> dict[str, dict[str, str]]:
    return {language: _catalog(language) for language in ("ko", "en")}


def _key_pattern() -> re.Pattern[str]:
    namespaces = {key.split(".")[0] for catalog in _catalogs().values() for key in catalog}
    alternatives = "|".join(sorted(namespaces))
    return re.compile(rf"^(?:{alternatives})\.[a-z0-9_]+(?:\.[a-z0-9_]+)*\.?$")


def _keys_in_code() -> dict[str, list[str]]:
    """Dotted literals in the package's code that start with a catalog namespace → where."""
    pattern = _key_pattern()
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value):
                if node.value.rsplit(".", 1)[-1] in FILE_SUFFIXES:
                    continue
                found.setdefault(node.value, []).append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def _known(key: str, catalog: dict[str, str]) -> bool:
    """A whole key, or the start of keys the code completes (f"thinq.backoff.{kind}", "…col_" + name)."""
    if key.endswith((".", "_")):
        return any(k.startswith(key) for k in catalog)
    return key in catalog


def test_the_scan_finds_the_keys_the_code_uses() -> None:
    found = _keys_in_code()
    # The scan must see keys of every kind of use, or the check below would pass by seeing nothing.
    for used in ("error.config", "error.port_in_use", "thinq.poll_failed", "hub.task_failed", "cli.serving"):
        assert used in found, used
    assert len(found) > 150


def test_every_message_key_in_the_code_exists_in_both_catalogs() -> None:
    missing = [
        f"{key} (not in {language}; used at {', '.join(places[:2])})"
        for key, places in sorted(_keys_in_code().items())
        for language, catalog in _catalogs().items()
        if not _known(key, catalog)
    ]
    assert missing == []


def test_both_catalogs_have_the_same_keys() -> None:
    catalogs = _catalogs()
    assert sorted(set(catalogs["ko"]) ^ set(catalogs["en"])) == []


def _bool_keys(node: Any, path: str) -> list[str]:
    if isinstance(node, dict):
        bad = [f"{path}.{key}" for key in node if isinstance(key, bool) or key is None]
        return bad + [item for key, value in node.items() for item in _bool_keys(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [item for index, value in enumerate(node) for item in _bool_keys(value, f"{path}[{index}]")]
    return []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.yaml")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_yaml_key_is_read_as_a_boolean(path: Path) -> None:
    # YAML 1.1 (PyYAML) reads unquoted on/off/yes/no as true/false: `off:` became the key False,
    # and `error.voice.off` was printed as a raw key. Such keys must be quoted.
    assert _bool_keys(yaml.safe_load(path.read_text(encoding="utf-8")), path.name) == []
