"""CAS attributes of a user: those the config gives (email, employeeNumber, …), as a university's CAS sends."""
from django.conf import settings


def user_attributes(user, service):
    found = next((u for u in settings.CONFIG["users"] if u["username"] == user.get_username()), {})
    return {k: v for k, v in found.items() if k not in ("username", "password")}
