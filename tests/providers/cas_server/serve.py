"""Start the test CAS server: ``serve.py CONFIG.json PORT`` (in the venv `make services` builds: Django 3.2 and
django-mama-cas). Creates its database and the config's users, then serves on 127.0.0.1:PORT until stopped."""
import os
import sys

os.environ["CAS_TEST_CONFIG"] = sys.argv[1]
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
for u in settings.CONFIG["users"]:
    user, _ = User.objects.get_or_create(username=u["username"])
    user.set_password(u["password"])
    user.is_active = u.get("active", True)
    user.save()
call_command("runserver", f"127.0.0.1:{sys.argv[2]}", use_reloader=False, use_threading=True, verbosity=0)
