"""Long screenings (video, datasets) as jobs: queued, run in the background, cancellable.

A job's row holds its state, progress (0..1) and result; the runner reports progress from the
screening's own callbacks, which also check for cancellation. Uploaded inputs live in the data
folder under ``jobs/<id>/`` and the job reads only from there (never a path a caller names).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from kenri.errors import InvalidInput, KenriError, NotFound
from kenri.registry.models import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from kenri.app import Kenri, Transaction

KINDS = ("video", "dataset")
FINISHED = ("done", "failed", "cancelled")


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Cancelled(Exception):
    pass


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": round(job.progress, 3),
        "result": job.result,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }


class JobRunner:
    """One background thread per service process (screening is CPU-bound; more would contend)."""

    def __init__(self, app: Kenri, workers: int = 1) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="kenri-job")

    def folder(self, job_id: int) -> Path:
        return self.app.settings.home / "jobs" / str(job_id)

    def submit(
        self, tx: Transaction, tenant_id: int, kind: str, files: list[tuple[str, bytes]],
        params: dict[str, Any],
    ) -> Job:  # fmt: skip
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
        if not files:
            raise InvalidInput("a job needs its input file(s)")
        job = Job(tenant_id=tenant_id, kind=kind, params=params)
        tx.session.add(job)
        tx.session.flush()
        inputs = self.folder(job.id) / "input"
        inputs.mkdir(parents=True, exist_ok=True)
        for position, (name, data) in enumerate(files):
            suffix = Path(name).suffix.lower()[:8] if name else ""
            if kind == "dataset" and suffix != ".tar":
                raise InvalidInput("a dataset job takes webdataset .tar shards")
            (inputs / f"{position:05d}{suffix}").write_bytes(data)
        return job

    def start(self, job_id: int) -> None:
        """Run after the submitting transaction committed."""
        self.pool.submit(self._run, job_id)

    def get(self, tx: Transaction, job_id: int, tenant_id: int | None) -> Job:
        job = tx.session.get(Job, job_id)
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
            raise NotFound(f"no job {job_id}")
        return job

    def list(self, tx: Transaction, tenant_id: int | None) -> list[Job]:
        query = select(Job).order_by(Job.id)
        if tenant_id is not None:
            query = query.where(Job.tenant_id == tenant_id)
        return list(tx.session.scalars(query))

    def cancel(self, tx: Transaction, job: Job) -> Job:
        if job.state in FINISHED:
            return job
        job.cancel_requested = True
        if job.state == "queued":
            job.state, job.updated_at = "cancelled", utcnow()
        return job

    def _update(self, job_id: int, **values: Any) -> bool:
        """Write progress; False when a cancellation was asked for."""
        with self.app.transaction() as tx:
            job = tx.session.get(Job, job_id)
            for key, value in values.items():
                setattr(job, key, value)
            job.updated_at = utcnow()
            return not job.cancel_requested

    def _run(self, job_id: int) -> None:
        with self.app.transaction() as tx:
            job = tx.session.get(Job, job_id)
            if job is None or job.state != "queued":
                return
            job.state = "running"
            kind, params = job.kind, dict(job.params)

        def report(progress: float) -> None:
            if not self._update(job_id, progress=min(progress, 0.99)):
                raise Cancelled

        try:
            if kind == "video":
                result = self._video(job_id, params, report)
            else:
                result = self._dataset(job_id, params, report)
            self._update(job_id, state="done", progress=1.0, result=result)
        except Cancelled:
            self._update(job_id, state="cancelled")
        except KenriError as exc:
            self._update(job_id, state="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a job never takes the service down
            self._update(job_id, state="failed", error=f"internal error: {type(exc).__name__}")

    def _video(self, job_id: int, params: dict[str, Any], report) -> dict[str, Any]:
        from kenri.registry.media import probe_media
        from kenri.screening.findings import record_media_findings
        from kenri.screening.media import screen_video

        path = next((self.folder(job_id) / "input").iterdir())
        info = probe_media(path)
        if info.kind != "video":
            raise KenriError("a video job takes a video file")
        duration = max(info.duration_s or 1.0, 1e-3)
        result = screen_video(
            self.app,
            path,
            licensee=params.get("licensee"),
            purpose=params.get("purpose", "generation"),
            territory=params.get("territory"),
            progress=lambda t: report(t / duration),
        )
        if result.error:
            raise KenriError(result.error)
        self._record_findings(
            params, lambda tx, licensee_id: record_media_findings(
                tx, self.app.media, licensee_id, result, path.read_bytes(), "video"
            )
        )  # fmt: skip
        data = result.to_dict()
        data["input"] = params.get("filename", "video")
        return data

    def _dataset(self, job_id: int, params: dict[str, Any], report) -> dict[str, Any]:
        from kenri.screening.dataset.run import screen_dataset

        out, inputs = self.folder(job_id) / "out", self.folder(job_id) / "input"
        summary = screen_dataset(
            self.app,
            inputs,
            out,
            licensee=params.get("licensee"),
            territory=params.get("territory"),
            progress=lambda done, total: report(done / max(total, 1)),
        )
        self._record_findings(
            params,
            lambda tx, licensee_id: _training_findings(tx, self.app, licensee_id, inputs, out),
        )
        data = summary.to_dict()
        data["out"] = f"jobs/{job_id}/out"
        return data

    def _record_findings(self, params: dict[str, Any], record) -> None:
        """Keep what a job found for the holders (``record(tx, licensee_id)``)."""
        if not params.get("licensee"):
            return
        with self.app.transaction() as tx:
            record(tx, tx.registry.licensee(params["licensee"]).id)

    def shutdown(self, wait: bool = False) -> None:
        """Stop taking jobs; queued ones stay queued in the database (``wait``: let the
        running one finish)."""
        self.pool.shutdown(wait=wait, cancel_futures=True)


def _training_findings(tx: Transaction, app: Kenri, licensee_id: int, inputs: Path, out: Path):
    """Findings for the items a dataset job excluded or sent to review, with their pictures."""
    import pyarrow.parquet as pq

    from kenri.screening.dataset.sources import discover, read_items
    from kenri.screening.findings import record_training_findings

    flagged = {
        (row["shard"], row["key"]): row
        for row in pq.read_table(out / "decisions.parquet").to_pylist()
        if row["decision"] in ("exclude", "review") and row["evidence"]
    }
    for shard in discover(inputs):
        for item in read_items(shard):
            row = flagged.get((item.shard, item.key))
            if row is not None:
                media = item.media
                row["caption"] = item.caption
                record_training_findings(tx, app.media, licensee_id, row, media and media[1])
