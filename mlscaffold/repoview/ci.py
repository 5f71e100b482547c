"""What CI runs: the commands of CI workflows, with `make` targets expanded through the Makefile.

Used by the `ci-readiness-gate` rule and by `score` (a test counts as automated when CI or a
schedule runs a command that does it). The Makefile reading is deliberately small: variables
(`=`, `:=`, `?=`, `+=`), `include` with `$(wildcard ...)`, rules with prerequisites and recipes,
and recursive `$(MAKE) target` calls. Pattern rules, functions and conditionals are not evaluated.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlscaffold.repoview.view import RepoView

WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml", "/.gitlab-ci.yml")
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
_VAR_RX = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]")
_ASSIGN_RX = re.compile(r"^(?:export\s+|override\s+)?([.A-Za-z_][A-Za-z0-9_.-]*)\s*([:+?!]{0,3})=\s*(.*)$")
_RULE_RX = re.compile(r"^([^:=#\t][^:=#]*?)\s*::?\s*(?!=)(.*)$")
_INCLUDE_RX = re.compile(r"^[-s]?include\s+(.+)$")
_MAKE_CALL_RX = re.compile(r"(?:^|[;&|(]\s*|\s)(?:\$[({]MAKE[)}]|make)(?=\s|$|[;&|)])((?:\s+[^;&|)]+)?)")


@dataclass(frozen=True)
class CiCommand:
    """One command CI runs: where it is declared, and whether a schedule starts it."""

    workflow: str
    text: str
    scheduled: bool
    via: str = ""  # the make target it was reached through, if any
    root: str = ""  # the workflow's own command that led here (for make-expanded commands)


@dataclass
class Makefile:
    variables: dict[str, str] = field(default_factory=dict)
    prerequisites: dict[str, list[str]] = field(default_factory=dict)
    recipes: dict[str, list[str]] = field(default_factory=dict)
    default_target: str | None = None
    loader: Callable[[str], Makefile | None] | None = field(default=None, repr=False, compare=False)

    def expand(self, text: str, depth: int = 0) -> str:
        if depth > 8 or "$" not in text:
            return text
        out = _VAR_RX.sub(lambda m: self.variables.get(m.group(1), ""), text)
        return out if out == text else self.expand(out, depth + 1)

    def defines(self, target: str) -> bool:
        """The Makefile has a rule for `target` (with prerequisites, a recipe, or both)."""
        return target in self.prerequisites or target in self.recipes

    def reach(self, targets: list[str]) -> list[str]:
        """Targets reached from `targets` through prerequisites and recursive make calls, in order.
        Only targets the Makefile defines are reached: `make all` without an `all` rule runs nothing."""
        return [target for _, target in self.reach_in(targets)]

    def reach_in(self, targets: list[str]) -> list[tuple[Makefile, str]]:
        """Like `reach`, with the makefile each target is defined in: a recipe's `$(MAKE) -f other.mk
        goal` continues in other.mk."""
        seen: set[tuple[int, str]] = set()
        out: list[tuple[Makefile, str]] = []
        stack: list[tuple[Makefile, str]] = [(self, t) for t in reversed(targets)]
        while stack and len(out) < 500:
            mk, target = stack.pop()
            if (id(mk), target) in seen or not mk.defines(target):
                continue
            seen.add((id(mk), target))
            out.append((mk, target))
            nested = [(mk, mk.expand(p)) for p in mk.prerequisites.get(target, [])]
            for line in mk.recipes.get(target, []):
                for file, goals in make_calls(line):
                    sub = mk if file is None else mk.load(mk.expand(file))
                    if sub is not None:
                        nested.extend((sub, sub.expand(g)) for g in goals or sub.default_goals())
            stack.extend(reversed([(m, t) for m, names in nested for t in names.split()]))
        return out

    def default_goals(self) -> list[str]:
        default = self.variables.get(".DEFAULT_GOAL", "").strip() or self.default_target
        return [default] if default else []

    def load(self, rel: str) -> Makefile | None:
        """Another makefile of the repo (`make -f rel`), read once."""
        return self.loader(rel) if self.loader is not None else None


def make_calls(command: str) -> list[tuple[str | None, list[str]]]:
    """Each make call in a shell command: the makefile it names with -f (None: the default one) and
    its goals ([] = the default goal)."""
    calls: list[tuple[str | None, list[str]]] = []
    for match in _MAKE_CALL_RX.finditer(command):
        try:
            words = shlex.split(match.group(1))
        except ValueError:
            words = match.group(1).split()
        calls.append((_makefile_option(words), _goals(words)))
    return calls


def _makefile_option(words: list[str]) -> str | None:
    for i, word in enumerate(words):
        if word in ("-f", "--file", "--makefile") and i + 1 < len(words):
            return words[i + 1].removeprefix("./")
        for prefix in ("--file=", "--makefile="):
            if word.startswith(prefix):
                return word[len(prefix) :].removeprefix("./")
    return None


def make_targets(command: str) -> list[str] | None:
    """The targets a shell command asks make for ([] = the default goal), or None if not make."""
    found: list[str] | None = None
    for match in _MAKE_CALL_RX.finditer(command):
        found = found or []
        try:
            words = shlex.split(match.group(1))
        except ValueError:
            words = match.group(1).split()
        found.extend(_goals(words))
    return found


_MAKE_ARG_OPTIONS = frozenset({"-C", "-f", "-I", "-o", "-W", "--file", "--makefile", "--directory"})


def _goals(words: list[str]) -> list[str]:
    """The goals among make's arguments: not options, not their values, not VAR=value."""
    goals: list[str] = []
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
        elif word in _MAKE_ARG_OPTIONS:
            skip = True
        elif word in ("-j", "-l"):
            skip = i + 1 < len(words) and words[i + 1].isdigit()
        elif not word.startswith("-") and "=" not in word:
            goals.append(word)
    return goals


def read_makefile(repo: RepoView) -> Makefile | None:
    name = next((n for n in MAKEFILES if repo.has(n) or repo.exists_on_disk(n)), None)
    if name is None:
        return None
    cache: dict[str, Makefile | None] = {}

    def load(rel: str) -> Makefile | None:
        if rel not in cache:
            cache[rel] = None
            if repo.has(rel) or repo.exists_on_disk(rel):
                sub = Makefile(loader=load)
                _parse_make(repo, rel, sub, seen=set())
                cache[rel] = sub
        return cache[rel]

    return load(name)


def _parse_make(repo: RepoView, rel: str, mk: Makefile, seen: set[str]) -> None:
    if rel in seen or len(seen) > 200:
        return
    seen.add(rel)
    text = repo.read_text(rel)
    if text is None:
        return
    current: list[str] = []
    for raw in _logical_lines(text):
        if raw.startswith("\t"):
            for target in current:
                mk.recipes.setdefault(target, []).append(raw.strip().lstrip("@-+"))
            continue
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        current = []
        if inc := _INCLUDE_RX.match(line):
            for included in _include_paths(repo, mk.expand(inc.group(1))):
                _parse_make(repo, included, mk, seen)
        elif assign := _ASSIGN_RX.match(line):
            _assign(mk, *assign.groups())
        elif rule := _RULE_RX.match(line):
            current = _add_rule(mk, rule.group(1), rule.group(2))


def _assign(mk: Makefile, name: str, op: str, value: str) -> None:
    if op == "+":
        mk.variables[name] = (mk.variables.get(name, "") + " " + value).strip()
    elif op != "?" or name not in mk.variables:
        mk.variables[name] = mk.expand(value) if ":" in op else value


def _add_rule(mk: Makefile, targets_text: str, rest: str) -> list[str]:
    targets = mk.expand(targets_text).split()
    prereqs, _, inline = rest.partition(";")
    for target in targets:
        mk.prerequisites.setdefault(target, []).extend(prereqs.split())
        if inline.strip():
            mk.recipes.setdefault(target, []).append(inline.strip())
        if mk.default_target is None and not target.startswith(".") and "%" not in target:
            mk.default_target = target
    return [t for t in targets if not t.startswith(".")]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    buffer = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        lines.append(buffer + line)
        buffer = ""
    if buffer:
        lines.append(buffer)
    return lines


def _include_paths(repo: RepoView, text: str) -> list[str]:
    paths: list[str] = []
    for pattern in re.findall(r"\$\(wildcard\s+([^)]*)\)", text):
        for glob in pattern.split():
            paths.extend(sorted(repo.glob("/" + glob.removeprefix("./"))))
    literal, previous = text, ""
    while literal != previous:
        previous, literal = literal, re.sub(r"\$[({][^(){}]*[)}]", " ", literal)
    paths.extend(w.removeprefix("./") for w in literal.split() if not set(w) & set("$(){}"))
    return paths


# ---------------------------------------------------------------------------------- workflows


def ci_commands(repo: RepoView, workflow_globs: tuple[str, ...] = WORKFLOW_GLOBS) -> list[CiCommand]:
    """Every command CI workflows run, plus the recipes of the make targets they call."""
    mk = read_makefile(repo)
    commands: list[CiCommand] = []
    for rel in repo.glob_any(workflow_globs):
        data = _load_yaml(repo, rel)
        if data is None:
            continue
        scheduled = _is_scheduled(data)
        for text in _run_lines(data):
            commands.append(CiCommand(rel, text, scheduled))
            commands.extend(_expand_make(mk, rel, text, scheduled))
    return commands


def _expand_make(mk: Makefile | None, rel: str, text: str, scheduled: bool) -> list[CiCommand]:
    if mk is None:
        return []
    out: list[CiCommand] = []
    for line in text.splitlines():
        root = line.strip()
        for file, targets in make_calls(line):
            top = mk if file is None else mk.load(file)
            if top is None:
                continue
            for owner, target in top.reach_in(targets or top.default_goals()):
                out.append(CiCommand(rel, f"make {target}", scheduled, target, root))
                out.extend(
                    CiCommand(rel, owner.expand(r), scheduled, target, root)
                    for r in owner.recipes.get(target, [])
                )
    return out


def _load_yaml(repo: RepoView, rel: str) -> dict[str, Any] | None:
    data, _ = load_workflow(repo, rel)
    return data


def load_workflow(repo: RepoView, rel: str) -> tuple[dict[str, Any] | None, str]:
    """A workflow file as a mapping, or None and the reason it cannot be read."""
    from mlscaffold.errors import UserError
    from mlscaffold.yamlio import loads_yaml

    text = repo.read_text(rel)
    if text is None:
        return None, "not a readable UTF-8 text file"
    try:
        data = loads_yaml(text, rel)
    except UserError as err:
        return None, str(err).removeprefix(f"{rel}: ")
    if not isinstance(data, dict):
        return None, "not a mapping of keys to values"
    return data, ""


def _is_scheduled(data: dict[Any, Any]) -> bool:
    # PyYAML reads the bare key `on` as the boolean True.
    triggers = data.get("on", data.get(True))
    if isinstance(triggers, dict):
        return "schedule" in triggers
    return False


def _run_lines(data: dict[str, Any]) -> list[str]:
    """`run:` of GitHub Actions steps and `script:` entries of GitLab CI jobs, as text."""
    lines: list[str] = []
    jobs = data.get("jobs")
    if isinstance(jobs, dict):
        for job in jobs.values():
            steps = job.get("steps") if isinstance(job, dict) else None
            for step in steps if isinstance(steps, list) else []:
                if isinstance(step, dict) and isinstance(step.get("run"), str):
                    lines.append(step["run"])
    for value in data.values():
        if isinstance(value, dict):
            for key in ("before_script", "script", "after_script"):
                script = value.get(key)
                if isinstance(script, str):
                    lines.append(script)
                elif isinstance(script, list):
                    lines.extend(s for s in script if isinstance(s, str))
    return lines
