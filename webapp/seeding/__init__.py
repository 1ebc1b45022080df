"""Loading seed data: reference data from seed/, and generated demo providers and units."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlalchemy.orm import Session

SeedStep = Callable[[Session], str]


def run_seed(sess: Session, demo: bool = True, *, resident_key_secret: str | None = None,
             instance_dir: str | None = None, app_env: str = "development") -> str:
    """Reference data, and with `demo` the demo units, test persons, waiting lists and staff accounts. The
    test persons' residents are keyed with `resident_key_secret` (the app's RESIDENT_KEY_SECRET), which `demo`
    needs; the demo staff passwords are kept in `instance_dir` (INSTANCE_DIR), and none are made when
    `app_env` is production."""
    from webapp.core.config import INSTANCE
    from webapp.seeding.demo import seed_demo_units
    from webapp.seeding.reference import load_reference_data
    pilots = load_reference_data(sess)
    made = seed_demo_units(sess) if demo else 0
    extras = []
    if demo:
        if resident_key_secret is None:
            raise ValueError("the demo seed needs resident_key_secret (RESIDENT_KEY_SECRET) for the test persons")
        for step in demo_seed_steps(resident_key_secret, instance_dir or str(INSTANCE), app_env):
            extras.append(step(sess))
    sess.commit()
    return "; ".join([f"{len(pilots)} pilots", f"{made} new demo units", *[e for e in extras if e]])


def demo_seed_steps(resident_key_secret: str, instance_dir: str, app_env: str) -> list[SeedStep]:
    """Seed steps owned by other areas (test persons, staff accounts)."""
    from webapp.accounts.staff import seed_demo_accounts
    from webapp.seeding.test_persons import seed_test_persons
    from webapp.seeding.waiting import seed_waiting_lists
    return [partial(seed_test_persons, resident_key_secret=resident_key_secret),
            partial(seed_waiting_lists, resident_key_secret=resident_key_secret),
            partial(seed_demo_accounts, instance_dir=instance_dir, app_env=app_env)]


def dev_account_lines(instance_dir: str | None, app_env: str) -> list[str]:
    from webapp.accounts.staff import describe_demo_accounts
    from webapp.core.config import INSTANCE
    from webapp.seeding.test_persons import describe_test_persons
    return [*describe_demo_accounts(instance_dir=instance_dir or INSTANCE, app_env=app_env), *describe_test_persons()]
