"""Choices and waiting lists: the pure rules, locking, the use cases, messages."""
