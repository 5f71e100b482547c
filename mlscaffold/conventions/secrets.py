"""Credentials that must never be committed, found by detect-secrets. Matches are reported, never
echoed (P10).

Scanning is two-step, because detect-secrets tries ~25 plugins on every line it is given (about half a
millisecond a line): `git grep` (or a plain read outside git) first picks the lines that contain one of
the cheap fixed strings below, which every enabled plugin's pattern needs; detect-secrets then judges
those lines only. Its entropy plugins and public-IP detector are left out: on ML repos (hashes, lock
files, notebooks, data) they find far more noise than secrets. Placeholders (`${VAR}`, `<password>`,
`your-api-key-here`...) and lines marked `pragma: allowlist secret` are not findings.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

ALLOW_MARKER = "pragma: allowlist secret"

# Lower-case strings one of which every enabled plugin's match contains (the keyword plugin's words,
# the token prefixes, URL credentials, PEM headers).
NEEDLES: list[tuple[str, ...]] = sorted(
    (needle,)
    for needle in (
        "key", "pass", "pwd", "secret", "token", "auth", "://", "-----begin", "akia", "asia", "ghp_",
        "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "sk_", "rk_", "sk-", "sg.",
        "npm_", "pypi-", "eyj", "sq0", "akc", "cloudant", "ibm", "discord", "bot",
    )
)  # fmt: skip
MAX_LINE = 4000

PLACEHOLDER_RX = re.compile(
    r"^(?:\$|\{|<|%\()"  # ${VAR}, {name}, <password>, %(password)s
    r"|^(?:\*+|x+|\.+|secret|password|passwd|pass|token|none|null)$"
    r"|example|changeme|change_me|placeholder|your[_-]|dummy|redacted|fake|environ|getenv",
    re.IGNORECASE,
)

# detect-secrets' secret types, in the words our findings use; the keyword plugin comes last so that a
# line with a known token format is reported as that token.
_KIND_NAMES = {
    "AWS Access Key": "AWS key",
    "GitHub Token": "GitHub token",
    "GitLab Token": "GitLab token",
    "Basic Auth Credentials": "password in a URL",
    "Private Key": "private key",
    "Secret Keyword": "hard-coded password or key",
}
_VALUE_KINDS = ("Secret Keyword", "Basic Auth Credentials")  # a placeholder there is no finding
_LEFT_OUT = ("Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector")


def _plugins() -> list[dict[str, str]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    names = sorted(cls.__name__ for cls in classes)
    return [{"name": name} for name in names if name not in _LEFT_OUT]


@contextlib.contextmanager
def scanner() -> Iterator[Callable[[str], list[str]]]:
    """A function from one line to the kinds of credential found on it (at most one kind: the most
    specific), valid inside this context (detect-secrets keeps its settings globally)."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    def find(line: str) -> list[str]:
        if ALLOW_MARKER in line:
            return []
        kinds = [
            secret.type
            for secret in scan_line(line[:MAX_LINE])
            if not (secret.type in _VALUE_KINDS and PLACEHOLDER_RX.search(secret.secret_value or ""))
        ]
        kinds.sort(key=lambda kind: kind == "Secret Keyword")
        return [_KIND_NAMES.get(kinds[0], kinds[0])] if kinds else []

    with transient_settings({"plugins_used": _plugins()}):
        yield find
