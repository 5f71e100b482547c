"""A read-only view of a repository (tracked files or the work tree) and its CI and Makefile commands,
shared by `check` (conventions) and `score`."""
