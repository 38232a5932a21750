"""Mail templates for tests that need the digest not to render."""

from __future__ import annotations

import shutil
from pathlib import Path

from services.core.settings import PROJECT_ROOT


def broken_templates(folder: Path) -> Path:
    """A copy of the mail templates under ``folder``, with a digest MJML that mjml-python refuses; the copy's
    path. Raises FileExistsError when ``folder`` already holds one."""
    templates = shutil.copytree(PROJECT_ROOT / "templates" / "email", folder / "broken-templates")
    (templates / "digest.mjml").write_text("<mjml><mj-body><mj-section></mj-body></mjml>")
    return templates
