"""Loading seed data: reference data from seed/, and generated demo providers and units."""
from __future__ import annotations

from sqlalchemy.orm import Session


def run_seed(sess: Session, demo: bool = True) -> str:
    from webapp.seeding.demo import seed_demo_units
    from webapp.seeding.reference import load_reference_data
    pilots = load_reference_data(sess)
    made = seed_demo_units(sess) if demo else 0
    extras = []
    if demo:
        for step in demo_seed_steps():
            extras.append(step(sess))
    sess.commit()
    return "; ".join([f"{len(pilots)} pilots", f"{made} new demo units", *[e for e in extras if e]])


def demo_seed_steps() -> list:
    """Seed steps owned by other areas (test persons, staff accounts)."""
    from webapp.seeding.test_persons import seed_test_persons
    from webapp.seeding.waiting import seed_waiting_lists
    from webapp.accounts.staff import seed_demo_accounts
    return [seed_test_persons, seed_waiting_lists, seed_demo_accounts]


def dev_account_lines() -> list[str]:
    from webapp.seeding.test_persons import describe_test_persons
    from webapp.accounts.staff import describe_demo_accounts
    return [*describe_demo_accounts(), *describe_test_persons()]
