"""The builder stage without Docker: build the wheel from exactly what the Dockerfile
copies, install it (not editable) into a fresh virtual environment, and run it from
another directory: the flows, the templates, the migrations and the catalogs must all
come from the installed package, never from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.deploy.dockerfile import ROOT, copy_sources, read_stages

SHIPPED = ("bot", "channels", "flows", "admin", "locales")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, status: int = 0) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == status, (
        f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout + done.stderr


def build_context(tmp: Path) -> Path:
    """The files the builder stage copies, as the Dockerfile names them."""
    context = tmp / "context"
    for source in copy_sources(read_stages()[0]):
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(
                origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            context.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, context / source)
    return context


def test_a_plain_wheel_install_finds_its_flows_catalogs_and_migrations(tmp_path: Path) -> None:
    context = build_context(tmp_path)
    dist = tmp_path / "dist"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, ".", cwd=context)
    (wheel,) = dist.glob("baraza-*.whl")

    shipped = {
        str(path.relative_to(context))
        for name in SHIPPED
        for path in (context / name).rglob("*")
        if path.is_file()
    }
    missing = shipped - set(zipfile.ZipFile(wheel).namelist())
    assert not missing, f"left out of the wheel: {sorted(missing)}"

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        *pip,
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        "--ignore-installed",
        wheel,
        cwd=tmp_path,
    )
    # The dependencies come from the shared environment (this is about the package, and
    # the network is not ours); added after the new venv's own site-packages, so the
    # installed copy of the app is what gets imported.
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    (site / "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "BARAZA_ENV": "development",
        "BARAZA_VAR_DIR": str(elsewhere / "var"),
        "DATABASE_URL": f"sqlite:///{elsewhere / 'baraza.db'}",
    }
    where = run(
        python,
        "-c",
        "import bot, flows.loader as f, bot.i18n as i; "
        "print(bot.__file__, f.FLOWS_DIR, i.default_locales_dir())",
        cwd=elsewhere,
        env=env,
    )
    assert all(part.startswith(str(site)) for part in where.split()), where
    usage = run(venv / "bin" / "baraza", "--help", cwd=elsewhere, env=env)
    assert "serve" in usage and "flows" in usage
    assert "flows are valid" in run(
        venv / "bin" / "baraza", "flows", "check", cwd=elsewhere, env=env
    )
    assert "up to date" in run(venv / "bin" / "baraza", "db", "upgrade", cwd=elsewhere, env=env)
    doctor = run(venv / "bin" / "baraza", "doctor", cwd=elsewhere, env=env, status=1)
    assert "OK    flows: valid" in doctor and "OK    schema: up to date" in doctor
    assert "FAIL  deployment: not imported" in doctor
    languages = run(
        python,
        "-c",
        "from bot.i18n import load_catalogs; print(' '.join(load_catalogs().languages))",
        cwd=elsewhere,
        env=env,
    ).split()
    expected = sorted(p.name for p in (ROOT / "locales").iterdir() if (p / "LC_MESSAGES").is_dir())
    assert languages == expected
