"""`verdicts digest …`: the weekly digest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from services.commands import common

app = typer.Typer(help="The weekly digest.", no_args_is_help=True)


def _this_week() -> str:
    import datetime as dt

    from services.core.domain import iso_week

    return iso_week(dt.datetime.now(dt.timezone.utc).date())


@app.command("compile")
def digest_compile(
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W48 (default: this week)")] = None,
    force: Annotated[bool, typer.Option("--force", help="compile even an empty week")] = False,
) -> None:
    """Compile the digest of a week (once: a second run finds it)."""
    from services.digest.compose import compile_week

    rt = common.plain(common.settings())
    label = week or _this_week()
    with common.refusals(), rt.sessions() as session, session.begin():
        digest = compile_week(session, rt.settings, label, force=force)
        if digest is None:
            common.console.print(f"nothing to send for {label}: no new comparisons or tools (use --force)")
            return
        common.console.print(f"digest {digest.week}: {digest.subject!r} "
                             f"({digest.state}, {len(digest.sections)} sections)")
        common.console.print(f"preview: {rt.settings.public_url}/editor/digests/{digest.week}")


@app.command("preview")
def digest_preview(
    out: Annotated[Path, typer.Option("--out", help="folder for the preview files")],
    week: Annotated[Optional[str], typer.Option(help="ISO week (default: this week)")] = None,
) -> None:
    """Write what the editor preview shows (subject, preheader, HTML, plain text) to a folder."""
    from services.digest.compose import by_week
    from services.digest.previews import preview_files

    rt = common.plain(common.settings())
    label = week or _this_week()
    with rt.sessions() as session:
        digest = by_week(session, label)
        if digest is None:
            common.err.print(f"[red]error:[/red] no digest for {label}; "
                             f"run `verdicts digest compile --week {label}` first")
            raise typer.Exit(1)
        files = preview_files(rt.settings, digest)
    with common.writing(out):
        out.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (out / name).write_text(body, encoding="utf-8")
    common.console.print(f"wrote {', '.join(files)} to {out}")
