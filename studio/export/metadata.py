"""What every export says about its model beyond the weights: author, licence, version and description.

ONNX stores them in the file's ``metadata_props`` and ``doc_string``; Core ML in the model's metadata, which
Xcode shows. One :class:`ExportMetadata` carries them through :meth:`studio.StyleModel.export_onnx`,
:meth:`~studio.StyleModel.export_coreml`, the export functions and ``studio export``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from studio.config import ModelConfig
from studio.errors import StudioError

MAX_CHARS = 1000  # Xcode shows one line; a longer text is a mistake, not a description


@dataclass(frozen=True)
class ExportMetadata:
    """The descriptive fields of an exported model, each one line of text (up to :data:`MAX_CHARS` characters).

    ``description=None`` describes the model from its config (styles, use case, strength, density,
    iterations): see :meth:`describe`.
    """

    author: str = "Style Studio user"
    license: str = "Unspecified: ask the model's author"
    version: str = "1.0"
    description: str | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "description":
                continue
            if not isinstance(value, str) or "\n" in value or "\r" in value or len(value) > MAX_CHARS:
                shown = repr(value) if len(repr(value)) <= 100 else f"{repr(value)[:100]}…"
                raise StudioError(f"{field.name} must be one line of text (up to {MAX_CHARS} characters), got {shown}")

    @classmethod
    def of(
        cls,
        base: ExportMetadata | None = None,
        *,
        author: str | None = None,
        license: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> ExportMetadata:
        """``base`` (default: the defaults) with the fields given here (not None) replaced; checked."""
        given = {"author": author, "license": license, "version": version, "description": description}
        return dataclasses.replace(base or cls(), **{k: v for k, v in given.items() if v is not None})

    def describe(self, config: ModelConfig) -> str:
        """The description: the one given, else the model's settings in words."""
        if self.description is not None:
            return self.description
        return (
            f"Style transfer ({', '.join(config.style_names)}): {config.use_case} model, style strength "
            f"{config.style_strength:g}, density {config.style_density}, {config.iterations} iterations; "
            "made with Style Studio"
        )
