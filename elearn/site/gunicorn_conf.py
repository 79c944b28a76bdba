"""gunicorn settings of ``elearn serve`` (``gunicorn -c python:elearn.site.gunicorn_conf``): the app is built
and warmed up in the master (elearn.site.startup) before the workers are forked, so the first request after a
start answers at once; each worker then drops the master's connections and handles."""
from __future__ import annotations

from typing import Any

preload_app = True


def on_starting(server: Any) -> None:
    # The app is already built (preload_app, in gunicorn's setup); this runs before the sockets are bound, so
    # the port accepts requests only once the workers need load nothing more.
    from elearn.site import startup  # gunicorn reads this file before the app exists: the app's modules load later
    took = startup.warm_up(server.app.wsgi())
    server.log.info("elearn warmed up before forking: %s", ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))


def post_fork(server: Any, worker: Any) -> None:
    from elearn.site import startup  # (as in on_starting)
    startup.after_fork(server.app.wsgi())
