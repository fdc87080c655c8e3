"""Where kenri keeps its data: one folder (``KENRI_HOME``) and one database URL (``KENRI_DB``).

Embedded defaults need no server: SQLite inside the data folder. The service points ``KENRI_DB``
(or ``--db``) at PostgreSQL, e.g. ``postgresql+psycopg://user@127.0.0.1:5432/kenri``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("~/.kenri")


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    descriptor: str | None = None  # learned descriptor: "efficientnet" or a model.onnx path

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @classmethod
    def resolve(
        cls,
        home: str | os.PathLike[str] | None = None,
        db: str | None = None,
        descriptor: str | None = None,
    ) -> Settings:
        """Explicit arguments win over ``KENRI_HOME`` / ``KENRI_DB``, which win over defaults."""
        home_path = Path(home or os.environ.get("KENRI_HOME") or DEFAULT_HOME).expanduser()
        home_path = home_path.resolve()
        db_url = db or os.environ.get("KENRI_DB") or f"sqlite:///{home_path / 'registry.sqlite'}"
        descriptor = descriptor or os.environ.get("KENRI_DESCRIPTOR") or None
        return cls(home=home_path, db_url=db_url, descriptor=descriptor)
