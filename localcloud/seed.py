"""Demo data for the local cloud: a staff admin, a support agent, an IB and two clients."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    user_type: str
    role: str
    first_name: str
    last_name: str
    referral_code: str | None = None
    invited_by: str | None = None  # the referral code the user registered with


DEMO_USERS = [
    DemoUser("admin@broker.example.com", "Admin-demo-2026", "staff", "admin", "Ada", "Admin"),
    DemoUser("support@broker.example.com", "Support-demo-2026", "staff", "support", "Sam", "Support"),
    DemoUser("ib@broker.example.com", "Ib-demo-2026", "ib", "ib", "Ivan", "Broker", referral_code="DEMOIB"),
    DemoUser("client1@broker.example.com", "Client-demo-2026", "client", "client", "Chen", "Li", invited_by="DEMOIB"),
    DemoUser("client2@broker.example.com", "Client-demo-2026", "client", "client", "Maria", "Garcia"),
]


def seed_demo_data(now: int) -> list[DemoUser]:
    """Create the demo users that do not exist yet; returns the ones created."""
    from fxcrm.auth.accounts import new_user
    from fxcrm.dal import users

    created = []
    for demo in DEMO_USERS:
        if users.find_user_id_by_email(demo.email) is not None:
            continue
        ib_id = users.find_ib_by_referral_code(demo.invited_by) if demo.invited_by else None
        user = new_user(
            demo.email,
            demo.password,
            demo.user_type,
            demo.role,
            now,
            first_name=demo.first_name,
            last_name=demo.last_name,
            referral_code=demo.referral_code,
            invite_code=demo.invited_by,
            ib_id=ib_id,
        )
        users.create_user(user)
        created.append(demo)
    return created
