"""Patterns for credentials that must never be committed. Matches are reported, never echoed (P10).

Scanning is two-step: `git grep` (or a plain read outside git) picks lines containing a cheap
fixed string, then the exact pattern is tried on those lines only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALLOW_MARKER = "pragma: allowlist secret"


@dataclass(frozen=True)
class SecretPattern:
    name: str
    regex: re.Pattern[str]
    needles: tuple[tuple[str, ...], ...]  # every match contains all strings of one needle
    value_group: int = 0  # the group holding the secret; placeholders there are not findings


PLACEHOLDER_RX = re.compile(
    r"^(?:\$|\{|<|%\()"  # ${VAR}, {name}, <password>, %(password)s
    r"|^(?:\*+|x+|\.+|secret|password|passwd|pass|token|none|null)$"
    r"|example|changeme|change_me|placeholder|your[_-]|dummy|redacted|fake|environ|getenv",
    re.IGNORECASE,
)

PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "private key",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        (("private key",),),
    ),
    SecretPattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), (("akia",), ("asia",))),
    SecretPattern(
        "GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        (("ghp_",), ("gho_",), ("ghu_",), ("ghs_",), ("ghr_",), ("github_pat_",)),
    ),
    SecretPattern("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), (("glpat-",),)),
    SecretPattern("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), (("xox",),)),
    SecretPattern("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), (("aiza",),)),
    SecretPattern(
        "API secret key",
        re.compile(r"\b(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{32,}|sk_live_[0-9A-Za-z]{24,})"),
        (("sk-",), ("sk_live_",)),
    ),
    SecretPattern(
        "password in a URL",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"]+:([^\s/@'\"]+)@[^\s/'\"]"),
        (("://", "@"),),
        value_group=1,
    ),
    SecretPattern(
        "hard-coded password or key",
        re.compile(
            r"(?i)\b\w*?(?:password|passwd|pwd|secret|secret_key|api_?key|access_?token|auth_?token"
            r"|client_secret)[\"']?\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']"
        ),
        tuple(
            (word,)
            for word in (
                "password",
                "passwd",
                "pwd",
                "secret",
                "api_key",
                "apikey",
                "access_token",
                "accesstoken",
                "auth_token",
                "authtoken",
            )
        ),
        value_group=1,
    ),
)

NEEDLES: list[tuple[str, ...]] = sorted({n for p in PATTERNS for n in p.needles})
MAX_LINE = 4000


def find_secrets(line: str) -> list[str]:
    """Names of the credential kinds found on one line (placeholders and allow-marked lines skipped)."""
    if ALLOW_MARKER in line:
        return []
    line = line[:MAX_LINE]
    found: list[str] = []
    low = line.lower()
    for pattern in PATTERNS:
        if not any(all(part in low for part in needle) for needle in pattern.needles):
            continue
        for match in pattern.regex.finditer(line):
            value = match.group(pattern.value_group)
            if pattern.value_group and PLACEHOLDER_RX.search(value):
                continue
            found.append(pattern.name)
            break
    return found
