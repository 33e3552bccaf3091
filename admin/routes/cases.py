"""Cases: the inbox, one case with its timeline, and the work done on it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from admin.audit import audit
from admin.casebook import CaseFilters, assignable, find_case, list_cases, read_case
from admin.deps import CaseWorker, ClientDep, PageNumber, ServicesDep, SessionDep
from admin.schemas import (
    Assignment,
    CaseDetail,
    CasePage,
    ProtectionAction,
    ReplyResult,
    Status,
    StatusChange,
    Text,
    errors,
)
from admin.scope import Scope
from bot.casework import CaseworkRefused, add_event, add_note, assign, change_status
from bot.casework import reply_to_reporter as relay
from bot.models import Case

router = APIRouter(prefix="/cases", tags=["cases"], responses=errors(401, 403))
WORK = errors(404, 409, 422)


@router.get("", response_model=CasePage, responses=errors(422))
async def inbox(
    scope: CaseWorker,
    db: SessionDep,
    services: ServicesDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    forum: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    area: str | None = Query(None, description="An area key: the area and all below it"),
    since: datetime | None = None,
    until: datetime | None = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 25,
) -> CasePage:
    """The cases this staff member may work, most recently active first."""
    directory = await services.runtime.directories.get(db)
    filters = CaseFilters(status_, forum, unit, category, area, since, until)
    items, total = await list_cases(db, scope, directory, filters, page=page, per_page=per_page)
    return CasePage(items=items, total=total, page=page, per_page=per_page)


async def _case(db: SessionDep, scope: Scope, reference: str) -> Case:
    case = await find_case(db, scope, reference)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return case


@router.get("/{reference}", response_model=CaseDetail, responses=errors(404))
async def one_case(
    reference: str, scope: CaseWorker, db: SessionDep, services: ServicesDep, client: ClientDep
) -> CaseDetail:
    """One case and its timeline. Every read is written to the audit log."""
    case = await _case(db, scope, reference)
    directory = await services.runtime.directories.get(db)
    detail = await read_case(db, scope, directory, case, client)
    await db.commit()
    return detail


def _refused(exc: CaseworkRefused) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.post("/{reference}/status", status_code=status.HTTP_204_NO_CONTENT, responses=WORK)
async def set_status(
    reference: str,
    change: StatusChange,
    scope: CaseWorker,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> None:
    """Move the case on with a reason. Acknowledged and resolved are told to the reporter
    (resolved with one satisfaction question); protection cases tell the survivor nothing."""
    case = await _case(db, scope, reference)
    directory = await services.runtime.directories.get(db)
    try:
        await change_status(
            db, services.runtime, directory,
            case=case, staff=scope.staff, status=change.status, reason=change.reason,
        )  # fmt: skip
    except CaseworkRefused as exc:
        raise _refused(exc) from None
    await audit(db, "case_status", staff=scope.staff, case_id=case.id, detail=change.status,
                client=client)  # fmt: skip
    await db.commit()
    services.wake_sender()


@router.post(
    "/{reference}/assign", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404, 422)
)
async def set_assignee(
    reference: str, body: Assignment, scope: CaseWorker, db: SessionDep, client: ClientDep
) -> None:
    """Assign the case to someone who may open it too (or to nobody: ``null``); anyone
    else is a 422."""
    case = await _case(db, scope, reference)
    assignee = None
    if body.staff_id is not None:
        assignee = next((p for p in await assignable(db, case) if p.id == body.staff_id), None)
        if assignee is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "that person cannot work this case"
            )
    await assign(db, case=case, staff=scope.staff, assignee=assignee)
    await audit(db, "case_assign", staff=scope.staff, case_id=case.id,
                target=assignee.email if assignee else None, client=client)  # fmt: skip
    await db.commit()


@router.post("/{reference}/notes", status_code=status.HTTP_201_CREATED, responses=WORK)
async def note(
    reference: str, body: Text, scope: CaseWorker, db: SessionDep, client: ClientDep
) -> dict[str, str]:
    """An internal note on the timeline; the reporter never sees it."""
    case = await _case(db, scope, reference)
    try:
        await add_note(db, case=case, staff=scope.staff, text=body.text)
    except CaseworkRefused as exc:
        raise _refused(exc) from None
    await audit(db, "case_note", staff=scope.staff, case_id=case.id, client=client)
    await db.commit()
    return {"status": "noted"}


@router.post("/{reference}/replies", response_model=ReplyResult, status_code=201, responses=WORK)
async def reply(
    reference: str,
    body: Text,
    scope: CaseWorker,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> ReplyResult:
    """Write to the reporter through the bot, on their channel, with the case code; their
    answer comes back to this timeline. 409 when they cannot or may not be written to."""
    case = await _case(db, scope, reference)
    directory = await services.runtime.directories.get(db)
    try:
        delivery = await relay(
            db, services.runtime, directory, case=case, staff=scope.staff, text=body.text
        )
    except CaseworkRefused as exc:
        raise _refused(exc) from None
    await audit(db, "case_reply", staff=scope.staff, case_id=case.id, client=client)
    await db.commit()
    services.wake_sender()
    return ReplyResult(delivered_as="conversation" if delivery.conversation else "message")


@router.post("/{reference}/actions", status_code=status.HTTP_204_NO_CONTENT, responses=WORK)
async def protection_action(
    reference: str,
    body: ProtectionAction,
    scope: CaseWorker,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> None:
    """A protection officer records what was done: contacted, referred to a service, closed."""
    case = await _case(db, scope, reference)
    if case.kind != "protection":
        raise HTTPException(status.HTTP_409_CONFLICT, "actions are for protection cases")
    if body.action == "referred" and body.service is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "referred to which service?")
    if body.action == "referred" and not case.consent_service:
        raise HTTPException(status.HTTP_409_CONFLICT, "the survivor did not consent to services")
    text = body.action + (f" to {body.service}" if body.service else "")
    text += f": {body.note.strip()}" if body.note.strip() else ""
    await add_event(db, case, scope.staff, text)
    new_status = {"contacted": "in_progress", "referred": "referred", "closed": "closed"}
    if case.status != new_status[body.action]:
        directory = await services.runtime.directories.get(db)
        await change_status(
            db, services.runtime, directory,
            case=case, staff=scope.staff, status=new_status[body.action], reason=body.action,
        )  # fmt: skip
    await audit(db, "case_action", staff=scope.staff, case_id=case.id, detail=text, client=client)
    await db.commit()
