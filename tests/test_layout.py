"""The shape of the tree (DESIGN.md, "Architecture"): rules that keep it, checked on the source itself."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ELEARN = ROOT / "elearn"
SHARED = {"__init__", "app", "access", "cli", "clock", "config", "errors", "extensions", "i18n", "policy", "queue",
          "spreadsheets", "storage"}
DOMAINS = {"analytics", "audit", "auth", "branch", "community", "courses", "ledger", "media", "notify", "orgs",
           "points", "quiz", "readings", "search", "security", "site", "study", "training", "xapi"}


def _sources(*roots: Path):
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_elearn_is_shared_modules_and_domain_packages():
    entries = {p.stem if p.is_file() else p.name for p in ELEARN.iterdir()
               if p.name not in ("__pycache__", "migrations", "translations") and (p.suffix == ".py" or p.is_dir())}
    assert entries == SHARED | DOMAINS | {"http"}
    for domain in DOMAINS:
        assert (ELEARN / domain / "__init__.py").exists(), domain


def test_shared_modules_import_no_domain():
    shared = [ELEARN / f"{name}.py" for name in SHARED - {"__init__", "app", "cli"}]
    for path in [*shared, *(ELEARN / "http").glob("*.py")]:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("elearn."):
                top = node.module.split(".")[1]
                assert top not in DOMAINS, f"{path.relative_to(ROOT)} imports the domain module {node.module}"


def test_pure_libraries_never_import_elearn_or_flask():
    for path in _sources(ROOT / "content", ROOT / "media_pipeline"):
        for node in ast.walk(_tree(path)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("elearn", "flask")), f"{path.relative_to(ROOT)} imports {name}"


def test_views_are_not_imported_by_other_domains():
    """A domain may use another domain's services, never its views (pages and API routes)."""
    for path in _sources(ELEARN):
        rel = path.relative_to(ELEARN)
        own = rel.parts[0] if len(rel.parts) > 1 else None
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("elearn."):
                parts = node.module.split(".")
                targets = [parts[2]] if len(parts) > 2 else [a.name for a in node.names]
                domain = parts[1]
                for target in targets:
                    is_view = target == "api" or target.endswith("views")
                    if is_view and domain in DOMAINS and domain != own and rel.name != "app.py":
                        pytest.fail(f"{rel} imports {domain}.{target}")


NOW_CALLS = re.compile(r"\b(datetime\.utcnow\(|datetime\.now\(|date\.today\(|datetime\.today\(|time\.localtime\()")


def test_only_the_clock_reads_the_time_of_day():
    offenders = []
    for path in _sources(ELEARN, ROOT / "content", ROOT / "media_pipeline"):
        if path == ELEARN / "clock.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if NOW_CALLS.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_roles_are_named_by_the_enum():
    offenders = []
    for path in _sources(ELEARN):
        if path == ELEARN / "access.py":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Constant) and node.value in ("site_admin", "org_admin"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _function_imports(path: Path):
    """(line number, the import line, the comment-or-code line above its run of imports)."""
    source = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    above = inner.lineno - 2
                    while above >= 0 and source[above].strip().startswith(("import ", "from ")):
                        above -= 1
                    yield inner.lineno, source[inner.lineno - 1], source[above] if above >= 0 else ""


def test_in_function_imports_say_why():
    """Imports inside functions only where a cycle or start-up cost needs one, with the reason beside it (on the
    line, or a comment just above the run of imports)."""
    offenders = []
    for path in _sources(ELEARN, ROOT / "content", ROOT / "media_pipeline"):
        for lineno, line, above in _function_imports(path):
            if "#" not in line and not above.strip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert offenders == []


def test_every_task_is_enqueued_by_a_service(app):
    """A job nothing enqueues is a feature nothing runs (the course indexing jobs once were)."""
    from elearn import queue

    enqueued: dict[str, list[str]] = {}
    for path in _sources(ELEARN):
        if path.name == "tasks.py" or path.name.endswith("views.py") or path.name in ("api.py", "cli.py"):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "enqueue" \
                    and isinstance(node.func.value, ast.Attribute):
                enqueued.setdefault(node.func.value.attr, []).append(str(path.relative_to(ROOT)))
    declared = queue.declared()
    assert declared, "create_app registers the domains' tasks"
    never = [t.name for t in declared if t.schedule is None and t.fn.__name__ not in enqueued]
    assert never == []


def test_templates_live_under_their_domain():
    templates = ROOT / "templates"
    for folder in templates.iterdir():
        if folder.is_dir():
            assert folder.name in DOMAINS | {"errors"}, folder.name
    assert {p.name for p in templates.glob("*.html")} == {"base.html", "_forms.html"}


def test_every_module_imports_on_its_own():
    """Cross-domain imports name modules (``from elearn.courses import services as courses``), so any module can
    be imported first whatever the cycles between domains."""
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in _sources(ELEARN))
    script = (
        "import importlib, sys\n"
        f"failed = []\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'elearn' or m.startswith('elearn.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_ledger_is_written_only_by_the_ledger():
    """One entry point into the ledger: every credit and correction goes through elearn.ledger.services."""
    offenders = []
    for path in _sources(ELEARN):
        if path.parent.name == "ledger":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in ("StudyCredit(", "insert(StudyCredit", "StudyCredit.__table__", "apply_credit_to_summaries"):
            if pattern in text:
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []
