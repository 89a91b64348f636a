"""Model cards: the documented rationale of a model version, rendered with jinja2.

Why this package exists: the governance framework asks for a *documentation of rationale*
that tells a reader years later how the best run came to be — business context and
justification, a plain explanation of the algorithm, parameters, feature definitions,
customisations, how to reproduce it, and examples — "with diagrams and plots rather
than walls of text". :func:`render_model_card` turns one model-version record into such a
card, as one self-contained HTML file (inline CSS, figures as ``data:`` URIs) and as
Markdown.

This module is the entry point and the public API; the work is split by concern:

- :mod:`.card_inputs` — :class:`ModelCardInputs`, a frozen dataclass of JSON-able fields,
  and its validation (a pure function of data: same inputs, same bytes).
- :mod:`.algorithms` — estimator families, task inference, built-in explanations.
- :mod:`.gaps` — :func:`documentation_gaps`: missing rationale is reported, never
  papered over.
- :mod:`.card_figures` — which plots to draw (via :mod:`.plots`) and how Markdown
  references them.
- :mod:`.card_context` — the inputs normalised into the shape the templates use.
- :mod:`.card_filters` — jinja2 filters, finalizers and the escaping rules.

Templates are data too, and live here: teams can drop ``model_card.html.j2`` /
``model_card.md.j2`` in a directory to override the packaged look; a missing file falls
back to the packaged one, and ``{% extends "packaged/model_card.html.j2" %}`` lets a team
override single blocks. ``StrictUndefined`` makes a typo in a template fail loudly instead
of printing an empty section, and errors name the template file and line.

This package never imports dagster: it is domain logic, wrapped by the orchestration layer.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from governance_pipelines.documentation.algorithms import (
    algorithm_family,
    default_algorithm_explanation,
    infer_task,
)
from governance_pipelines.documentation.card_context import card_context
from governance_pipelines.documentation.card_figures import MarkdownImages, card_figures
from governance_pipelines.documentation.card_filters import (
    FILTERS,
    finalize_html,
    finalize_markdown,
    tidy_markdown,
)
from governance_pipelines.documentation.card_inputs import ModelCardInputError, ModelCardInputs
from governance_pipelines.documentation.gaps import documentation_gaps

__all__ = [
    "HTML_TEMPLATE",
    "MARKDOWN_TEMPLATE",
    "ModelCardInputError",
    "ModelCardInputs",
    "ModelCardTemplateError",
    "RenderedCard",
    "algorithm_family",
    "default_algorithm_explanation",
    "documentation_gaps",
    "infer_task",
    "render_model_card",
]

HTML_TEMPLATE = "model_card.html.j2"
MARKDOWN_TEMPLATE = "model_card.md.j2"
PACKAGED_PREFIX = "packaged"


class ModelCardTemplateError(RuntimeError):
    """A (usually user-supplied) template is missing, malformed or uses unknown variables.

    The message names the template file and line so the template author can fix it
    without reading a jinja2 traceback.
    """


@dataclass(frozen=True)
class RenderedCard:
    """A rendered card: both formats, the gaps found, and the figures as PNG bytes.

    ``images`` maps file name → PNG bytes. With ``markdown_images="files"`` the Markdown
    links to exactly these names, so they must be written next to the ``.md`` file.
    """

    html: str
    markdown: str
    gaps: list[str]
    images: dict[str, bytes] = field(default_factory=dict)

    def write(self, directory: Path, *, stem: str = "model_card") -> list[Path]:
        """Write ``<stem>.html``, ``<stem>.md`` and the PNG figures into ``directory``.

        A convenience for callers (CLI, asset) that want files; rendering itself does no I/O.
        """
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / f"{stem}.html", directory / f"{stem}.md"]
        written[0].write_text(self.html, encoding="utf-8")
        written[1].write_text(self.markdown, encoding="utf-8")
        for name, png in self.images.items():
            path = directory / name
            path.write_bytes(png)
            written.append(path)
        return written


def render_model_card(
    inputs: ModelCardInputs,
    *,
    template_dir: Path | None = None,
    markdown_images: MarkdownImages = "inline",
) -> RenderedCard:
    """Render ``inputs`` to a self-contained HTML card and a Markdown card.

    ``template_dir`` may hold ``model_card.html.j2`` and/or ``model_card.md.j2``; each
    overrides the packaged template of the same name, and the packaged one is used for a
    file that is absent. ``markdown_images`` chooses inline ``data:`` URIs (self-contained,
    the default) or links to the sibling files in :attr:`RenderedCard.images`.

    Raises :class:`ModelCardTemplateError` naming the file and line when a template is
    malformed or refers to something the card context does not have.
    """
    if markdown_images not in ("inline", "files"):
        raise ValueError(f"markdown_images must be 'inline' or 'files', not {markdown_images!r}")
    if template_dir is not None and not Path(template_dir).is_dir():
        raise ModelCardTemplateError(f"template_dir {template_dir} is not a directory")

    gaps = documentation_gaps(inputs)
    figures, figures_note, images = card_figures(inputs, markdown_images)
    context = card_context(inputs, gaps, figures, figures_note)
    html = _render(_environment(template_dir, html=True), HTML_TEMPLATE, context)
    markdown = tidy_markdown(
        _render(_environment(template_dir, html=False), MARKDOWN_TEMPLATE, context)
    )
    return RenderedCard(html=html, markdown=markdown, gaps=gaps, images=images)


def _environment(template_dir: Path | None, *, html: bool) -> jinja2.Environment:
    """A jinja2 environment where the user directory shadows the packaged templates."""
    packaged = jinja2.PackageLoader("governance_pipelines.documentation", "templates")
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({PACKAGED_PREFIX: packaged})]
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(packaged)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize_html if html else finalize_markdown,
    )
    env.filters.update(FILTERS)
    return env


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template, turning jinja2 errors into messages naming file and line.

    Syntax errors can surface at load time or, for ``{% extends %}`` / ``{% include %}``
    targets, at render time; both are reported the same way.
    """
    template: jinja2.Template | None = None
    try:
        template = env.get_template(name)
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise ModelCardTemplateError(
            f"template syntax error in {where}, line {exc.lineno}: {exc.message}"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise ModelCardTemplateError(f"template not found: {exc.name}") from exc
    except jinja2.TemplateError as exc:
        where = _template_frame(exc) or (template.filename if template else None) or name
        raise ModelCardTemplateError(f"error rendering {where}: {exc}") from exc


def _template_frame(exc: BaseException) -> str | None:
    """The innermost ``file, line N`` of a template in a rewritten jinja2 traceback."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2"):
            found = f"{frame.filename}, line {frame.lineno}"
    return found
