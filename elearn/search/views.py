"""The search page: readings, courses, lessons and subtitles the user may see, together."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from elearn import policy
from elearn.extensions import ID_MAX, limiter
from elearn.http.api import per_user
from elearn.http.schemas import int_arg
from elearn.policy import SEARCH_LIMIT_PER_USER
from elearn.search import services as search

bp = Blueprint("search", __name__, url_prefix="/search")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("search.index", _l("搜索"), None)]


@bp.route("/")
@login_required
@limiter.limit(SEARCH_LIMIT_PER_USER, key_func=per_user)
def index():
    """Search form and one page of results; an invalid query shows why (status 400), never an error page."""
    q = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    series = request.args.get("series", "")
    sector = request.args.get("sector", "")
    page = int_arg(request.args, "page", 1, lo=-ID_MAX) or 0  # the search says what is wrong with 0
    results, error, status = None, None, 200
    if q:
        try:
            results = search.search(current_user, q, kind=kind or None, series=series or None,
                                    sector=sector or None, page=page)
        except search.SearchQueryError as exc:
            error, status = exc.message, 400
    filters = {"kind": kind, "series": series, "sector": sector}
    return render_template(
        "search/index.html", q=q, filters=filters, results=results, error=error,
        kinds=[(k, str(v)) for k, v in policy.SEARCH_KINDS.items()],
        series_choices=search.series_choices(current_user),
        sectors=[(k, str(v)) for k, v in policy.SECTORS.items()]), status
