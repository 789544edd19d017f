"""``GET /v1/jobs/{id}``: a background upload's progress and result (``api/jobs.py``), seen
only by the key that made it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from api.jobs import Job
from api.security import caller

router = APIRouter(prefix="/v1/jobs", tags=["documents"])


@router.get("/{job_id}", response_model=Job, responses={404: {}})
async def get_job(job_id: str, request: Request) -> Job:
    """A background upload's status, progress and (when done) result or error."""
    job = request.app.state.jobs.get(job_id, caller(request))
    if job is None:
        raise HTTPException(404, f"no job '{job_id}'")
    return job
