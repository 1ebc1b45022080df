"""Placeholder; the staff work replaces this with demo accounts."""


def seed_demo_accounts(sess) -> str:  # noqa: ANN001
    return ""


def describe_demo_accounts() -> list[str]:
    return []
