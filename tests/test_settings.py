"""studio.settings: one table of every STUDIO_* variable, read when asked, each malformed value refused in one line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from studio import settings
from studio.errors import StudioError
from studio.limits import ENV, Limits, limits
from studio.settings import INSTALL_SWITCHES, SETTINGS, compile_mode, folders, markdown_table

ROOT = Path(__file__).resolve().parents[1]
# Where a STUDIO_* name may appear: the code the studio runs, its README and how it is installed and hosted
SCANNED = ("studio", "ui", "app.py", "deploy", "README.md", "Dockerfile", "setup.sh")
NAME = re.compile(r"\bSTUDIO_[A-Z0-9_]*(?:[A-Z0-9]|_\*)")  # STUDIO_MAX_CONTENT_* names a family
TABLE = {row.variable for row in (*SETTINGS, *INSTALL_SWITCHES)}

# The defaults as they were before the table existed: changing one is a decision, not an accident.
DEFAULTS = {
    "STUDIO_MAX_UPLOAD_BYTES": 512 * 1024**2,
    "STUDIO_MAX_IMAGE_PIXELS": 100_000_000,
    "STUDIO_MAX_VIDEO_SECONDS": 600.0,
    "STUDIO_MAX_VIDEO_FRAMES": 36_000,
    "STUDIO_MAX_VIDEO_PIXELS": 3840 * 2160,
    "STUDIO_MAX_ITERATIONS": 5000,
    "STUDIO_MAX_TRAIN_SECONDS": 1800.0,
    "STUDIO_TRAININGS_PER_GPU": 1,
    "STUDIO_SESSION_BYTES": 256 * 1024**2,
    "STUDIO_STORE_BYTES": 2 * 1024**3,
    "STUDIO_CHECKPOINT_INTERVAL": 100,
    "STUDIO_MAX_CONTENT_FILES": 2000,
    "STUDIO_MAX_CONTENT_BYTES": 2 * 1024**3,
    "STUDIO_MAX_REQUEST_PIXELS": 1_000_000_000,
    "STUDIO_MAX_STYLE_PIXELS": 100_000_000,
    "STUDIO_SESSION_IDLE_SECONDS": 7 * 24 * 3600.0,
    "STUDIO_DATA": "HOME/.local/share/style-studio",
    "STUDIO_CACHE": "HOME/.cache/style-studio",
    "STUDIO_PRESETS": str(ROOT / "presets"),
    "STUDIO_COMPILE": "1",
}


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return out


def _python_names(tree: ast.AST) -> set[str]:
    """Identifiers (``STUDIO_RECIPE`` is a loss recipe, not a variable)."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names | {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}


def test_every_studio_variable_mentioned_anywhere_is_in_the_table() -> None:
    unknown: set[str] = set()
    for path in _files():
        text = path.read_text(encoding="utf-8")
        identifiers = _python_names(ast.parse(text)) if path.suffix == ".py" else set()
        for name in set(NAME.findall(text)) - identifiers:
            family = name.endswith("_*") and any(v.startswith(name[:-1]) for v in TABLE)
            if name not in TABLE and not family:
                unknown.add(f"{name} ({path.relative_to(ROOT)})")
    assert not unknown, f"add these to studio/settings.py's SETTINGS: {sorted(unknown)}"


def _reads_studio_variable(node: ast.AST) -> bool:
    """``os.environ["STUDIO_X"]``, ``os.environ.get("STUDIO_X")``, ``os.getenv("STUDIO_X")`` and the like."""
    if isinstance(node, ast.Subscript):
        key = node.slice
    elif isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in ("get", "getenv", "pop", "setdefault"):
            return False
        key = node.args[0]
    else:
        return False
    return isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("STUDIO_")


def test_only_the_settings_module_reads_studio_variables() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _files()
        if path.suffix == ".py" and path != ROOT / "studio" / "settings.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _reads_studio_variable(node)
    ]
    assert not readers, f"read these through studio.settings: {readers}"


def test_the_readme_shows_the_table() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_defaults_are_unchanged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert sorted(row.variable for row in SETTINGS) == sorted(DEFAULTS)
    for row in SETTINGS:
        got = row.read({})
        want = DEFAULTS[row.variable]
        if isinstance(want, str) and row.kind is Path:
            want = Path(want.replace("HOME", str(tmp_path)))
        assert got == want and type(got) is type(want), row.variable
    assert limits({}) == Limits() and set(ENV) < set(DEFAULTS)
    assert all(getattr(Limits(), field) == DEFAULTS[var] for var, field in ENV.items())


@pytest.mark.parametrize("row", [r for r in SETTINGS if r.kind in (int, float)], ids=lambda r: r.variable)
def test_a_malformed_number_is_refused_in_one_line(row: settings.Setting) -> None:
    kind = "a whole number" if row.kind is int else "a number"
    for bad in ("0", "-4", "many", "nan", "inf", *(("1.5",) if row.kind is int else ())):
        with pytest.raises(StudioError) as info:
            row.read({row.variable: bad})
        assert str(info.value) == f"{row.variable} must be {kind} greater than 0, got {bad!r}"


def test_a_malformed_choice_is_refused_and_every_setting_is_checked_at_once() -> None:
    with pytest.raises(StudioError, match=r"^STUDIO_COMPILE must be one of 0, 1, max-autotune, got 'yes'$"):
        compile_mode({"STUDIO_COMPILE": "yes"})
    with pytest.raises(StudioError, match="^STUDIO_MAX_VIDEO_FRAMES must be"):
        settings.check_all({"STUDIO_MAX_VIDEO_FRAMES": "lots"})
    settings.check_all({})
    with pytest.raises(StudioError, match="STUDIO_NOPE is not a studio setting"):
        settings.setting("STUDIO_NOPE")


def test_settings_are_read_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from studio.nn.lossnet import cache_dir
    from studio.presets import presets_dir
    from ui.app import data_folder

    monkeypatch.setenv("STUDIO_MAX_ITERATIONS", "1_000")
    monkeypatch.setenv("STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("STUDIO_PRESETS", str(tmp_path / "presets"))
    monkeypatch.setenv("STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_COMPILE", "max-autotune")
    assert limits().train_iterations == 1000 and compile_mode() == "max-autotune"
    assert (cache_dir(), presets_dir()) == (tmp_path / "cache", tmp_path / "presets")
    assert data_folder() == (tmp_path / "data").resolve() and folders().data == tmp_path / "data"
    monkeypatch.setenv("STUDIO_MAX_ITERATIONS", " ")  # blank: unset
    monkeypatch.setenv("STUDIO_COMPILE", "")
    assert limits().train_iterations == 5000 and compile_mode() == "1"


def test_a_malformed_setting_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.app import launch

    monkeypatch.setenv("STUDIO_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("STUDIO_COMPILE", "fast")
    with pytest.raises(SystemExit, match="error: STUDIO_COMPILE must be one of 0, 1, max-autotune, got 'fast'"):
        launch()
