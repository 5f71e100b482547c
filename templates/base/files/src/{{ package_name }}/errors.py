"""Errors a stage raises for the command line to report as one `error:` line and an exit code."""

from __future__ import annotations


class PipelineError(Exception):
    """A stage could not finish (exit 1)."""

    exit_code = 1


class ConfigError(PipelineError):
    """config.yaml is missing, malformed, or has a key with a bad value (exit 2)."""

    exit_code = 2


class DataError(PipelineError):
    """The input data breaks the schema or cannot be read (exit 2)."""

    exit_code = 2


class MissingInputError(PipelineError):
    """A file an earlier stage should have written is not there (exit 2)."""

    exit_code = 2


class CorruptInputError(MissingInputError):
    """A file an earlier stage wrote is there but cannot be read (exit 2): truncated, not the
    expected format, or written by an incompatible library version."""
