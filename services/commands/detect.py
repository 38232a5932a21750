"""`verdicts detect …`: rebuild the detector's model from the labelled corpus (and editors' decisions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from services.commands import common

app = typer.Typer(help="The detector's model.", no_args_is_help=True)


@app.command("train")
def detect_train(
    with_decisions: Annotated[bool, typer.Option("--with-decisions",
                                                 help="add editors' decisions; replace the model only if it "
                                                      "scores at least as well on held-back data")] = False,
    feeds: Annotated[Path | None, typer.Option(help="folder of the captured feeds (default ../shared/feeds)")] = None,
    out: Annotated[Path | None, typer.Option(help="where to write the model (default: the package's artefact)")] = None,
) -> None:
    """Fit the model on the labelled corpus and write it into the package, or to ``--out`` (same corpus,
    same bytes). Exits 1 when the corpus cannot be read, an entry has no label, or the model cannot be
    written (``common.writing``)."""
    from services.ingest.detector import corpus, model, training

    try:
        labelled = corpus.load_corpus(feeds or corpus.SHARED_FEEDS)
    except (LookupError, OSError) as exc:
        common.err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    examples = [training.Example(e.entry, e.source, e.is_release) for e in labelled]
    target = out or model.ARTEFACT
    if not with_decisions:
        fitted = training.fit(examples)
        with common.writing(target):
            model.save(fitted, target)
        common.console.print(f"trained {fitted.version} on {len(examples)} labelled entries "
                             f"({len(fitted.weights)} weights); wrote {target}")
        return
    from services.ingest.detector.decisions import decision_examples, refit

    rt = common.plain(common.settings())
    with rt.sessions() as session:
        decided = decision_examples(session)
    outcome = refit(model.current_model(), examples + decided)
    verdict = "replaced the model" if outcome.replaced else "kept the current model"
    common.console.print(f"{len(decided)} decided entries; held back {outcome.held_back}: F1 current "
                         f"{outcome.current_f1:.3f}, refit {outcome.candidate_f1:.3f}: {verdict}")
    if outcome.replaced:
        with common.writing(target):
            model.save(outcome.model, target)
        common.console.print(f"wrote {outcome.model.version} to {target}")
