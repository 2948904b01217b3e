"""Reading a YAML home file safely: size and nesting limits checked before composing, every
problem with its line (`Problem`, `HomeFileError`), and typed reads of the parsed nodes that
record a problem instead of raising (`NodeReader`), so one pass reports them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from oneteam.i18n import render
from oneteam.model import OneteamError, Range

MAX_HOME_BYTES = 1024 * 1024
"""A home file is a few kilobytes; reading stops here (a device file like /dev/zero never ends)."""
MAX_HOME_DEPTH = 32
"""Deepest nesting of lists and mappings; a home needs about 6 (composing deeper input recurses)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a home file."""

    line: int
    """1-based line number."""
    key: str
    """Message key under `home.` in the i18n catalogs."""
    params: dict[str, str] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        """The problem in words."""
        return render(f"home.{self.key}", language, **self.params)

    @property
    def message(self) -> str:
        """The problem in English (for logs and exceptions)."""
        return self.text("en")


class HomeFileError(OneteamError):
    """A home file that cannot be used; `problems` names every fault with its line."""

    key = "error.home_file"

    def __init__(self, source: str, problems: list[Problem]) -> None:
        text = "; ".join(f"{source}:{p.line}: {p.message}" for p in problems)
        super().__init__(text, source=source, count=len(problems), problems=text)
        self.source = source
        self.problems = problems


@dataclass
class NodeReader:
    """Reads nodes as the home file's types; what does not fit becomes a Problem."""

    problems: list[Problem] = field(default_factory=list)

    def fault(self, node: Node, problem: str, /, **params: object) -> None:
        facts = {name: str(value) for name, value in params.items()}
        self.problems.append(Problem(node.start_mark.line + 1, problem, facts))

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]]:
        """A mapping node as key → (key node, value node); duplicate keys are a fault."""
        if not isinstance(node, MappingNode):
            self.fault(node, "not_mapping", what=what)
            return {}
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                self.fault(key_node, "duplicate_key", key=key, what=what)
            out[key] = (key_node, value_node)
        return out

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fault(node, "not_list", what=what)
            return []
        return list(node.value)

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.value == "":
            self.fault(node, "not_text", what=what)
            return None
        return str(node.value)

    def texts(self, node: Node, what: str) -> tuple[str, ...]:
        return tuple(t for item in self.sequence(node, what) if (t := self.text(item, what)) is not None)

    def number(self, node: Node, what: str) -> float | None:
        try:
            return float(self.text(node, what) or "")
        except ValueError:
            self.fault(node, "not_number", what=what)
            return None

    def range(self, node: Node, what: str) -> Range | None:
        items = self.sequence(node, what)
        if len(items) != 2:
            if items:
                self.fault(node, "not_range", what=what)
            return None
        low, high = self.number(items[0], what), self.number(items[1], what)
        if low is None or high is None:
            return None
        if low > high:
            self.fault(node, "range_reversed", what=what, low=f"{low:g}", high=f"{high:g}")
            return None
        return Range(low, high)


def read_home_text(path: str | Path) -> str:
    """A home file's text; HomeFileError when it cannot be read."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_HOME_BYTES + 1)
        if len(data) > MAX_HOME_BYTES:
            raise HomeFileError(str(path), [Problem(0, "too_large", {"limit": str(MAX_HOME_BYTES)})])
        return data.decode("utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise HomeFileError(str(path), [Problem(0, "unreadable", {"reason": str(exc)})]) from exc


def check_depth(text: str, source: str, loader: Any = yaml.SafeLoader) -> None:
    """Refuse nesting deeper than MAX_HOME_DEPTH, reading the parser's event stream (which, unlike
    composing, does not recurse), so a file nested 20,000 deep is a problem with a line, not a crash."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_HOME_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else 0
                raise HomeFileError(source, [Problem(line, "too_deep", {"limit": str(MAX_HOME_DEPTH)})])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
