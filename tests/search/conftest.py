"""Fixtures of the search tests: who searches (a module defining its own ``people`` overrides this one)."""
import pytest


@pytest.fixture
def people(make_org, make_user):
    """A site admin, a lecturer and a member of a rural organisation, and an outsider of a city one."""
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    return {
        "admin": make_user("admin1", role="site_admin", org=rural),
        "lecturer": make_user("lect1", role="lecturer", org=rural),
        "member": make_user("member1", org=rural),
        "outsider": make_user("outsider1", org=city),
    }
