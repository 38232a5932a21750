"""Running `python -m services.cli` as a separate process, in an environment a developer's shell cannot leak into."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.core.runtime import Runtime


def cli_env(rt: Runtime | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without any VERDICTS_* or dramatiq_* variable, then the database URL, secret key,
    var dir and outbox dir of ``rt``'s settings (when given), then ``extra``; raises SettingsError when ``rt`` has
    no secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERDICTS_", "dramatiq_"))}
    if rt is not None:
        env.update({"VERDICTS_DATABASE_URL": rt.settings.database_url, "VERDICTS_SECRET_KEY": rt.settings.secret(),
                    "VERDICTS_VAR_DIR": str(rt.settings.var_dir), "VERDICTS_OUTBOX_DIR": str(rt.settings.outbox_dir)})
    env.update(extra)
    return env


def run_cli(rt: Runtime | None, *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120,
            **extra: str) -> subprocess.CompletedProcess[str]:
    """`verdicts *args` run to its end in ``cwd`` with ``stdin`` as input and the environment of ``cli_env(rt,
    **extra)``; its exit code and captured text output (never raises on a non-zero exit; raises
    subprocess.TimeoutExpired after ``timeout`` seconds)."""
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=cli_env(rt, **extra), cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
