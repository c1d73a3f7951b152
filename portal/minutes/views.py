"""Pages of minutes. Views parse input, call one service and choose a response; domain errors are answered
by the handlers in portal/errors (the message, and back to the page), except a section's conflict, which
shows both texts so the editor can merge them by hand. The request commits once."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.consultations import services as consultations
from portal.consultations.models import CANCELLED, Consultation
from portal.core.exceptions import ValidationError
from portal.core.policy import access
from portal.extensions import db
from portal.i18n import current_language, viewer_zone
from portal.core import documents
from portal.documents.views import content_disposition
from portal.minutes import actions, bp, diff, pdf, services
from portal.minutes.forms import (
    ActionItemForm,
    ActionStatusForm,
    AttendanceForm,
    ButtonForm,
    CarryForm,
    CirculateForm,
    CommentForm,
    DecisionForm,
    RecusalForm,
    SectionForm,
)
from portal.minutes.models import Minutes

ID = "<int(max=2147483647):minutes_id>"
SUB = "<int(max=2147483647):sub_id>"


def _load(minutes_id: int, permission: str = "minutes.view") -> Minutes:
    return services.get(current_user, minutes_id, permission=permission)


def _back(minutes: Minutes, message: str | None = None, anchor: str | None = None):
    if message:
        flash(message, "success")
    return redirect(url_for("minutes.detail", minutes_id=minutes.id) + (f"#{anchor}" if anchor else ""), code=303)


def _invalid(form) -> ValidationError:
    field, errors = next(iter(form.errors.items()))
    label = getattr(getattr(form, field, None), "label", None)
    return ValidationError(field, f"{label.text}: {' '.join(map(str, errors))}" if label else errors[0])


def _organisations(minutes: Minutes):
    consultation = minutes.consultation
    ids = {consultation.organiser_id, *consultation.invited_organisation_ids}
    language = current_language()
    rows = db.session.scalars(select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.code))
    return [(o.code, f"{o.name(language)} ({o.code})") for o in rows if o.id in ids or o.kind == "secretariat"]


@bp.errorhandler(services.SectionConflict)
def _section_conflict(exc: services.SectionConflict):
    minutes = db.session.get(Minutes, int(request.view_args["minutes_id"]))
    section = services.section_of(minutes, exc.section_id)
    form = SectionForm(prefix=f"s{section.id}", formdata=None,
                       data={"based_on": exc.current_revision, **exc.mine})
    return render_template("minutes/conflict.html", minutes=minutes, section=section, conflict=exc,
                           form=form), 409


@bp.post("/consultation/<int(max=2147483647):consultation_id>")
@access("minutes.keep")
def create(consultation_id: int):
    consultation = consultations.get(current_user, consultation_id)
    minutes = services.create(current_user, consultation)
    return _back(minutes, _("The draft minutes were made from the agenda."))


@bp.get("/consultation/<int(max=2147483647):consultation_id>")
@access("minutes.view")
def of_consultation(consultation_id: int):
    consultation = consultations.get(current_user, consultation_id)
    versions = services.of_consultation(current_user, consultation)
    if versions:
        return redirect(url_for("minutes.detail", minutes_id=versions[0].id), code=303)
    return render_template("minutes/none.html", consultation=consultation, button=ButtonForm(),
                           can_keep=services.can_keep(current_user))


@bp.get(f"/{ID}")
@access("minutes.view")
def detail(minutes_id: int):
    minutes = _load(minutes_id)
    status = services.status_for(current_user, minutes)
    forms = {}
    drafts = {}
    for section in minutes.sections:
        draft = services.draft_of(current_user, section) if status.editable else None
        drafts[section.id] = draft
        source = draft or section
        forms[section.id] = SectionForm(prefix=f"s{section.id}", formdata=None, data={
            "based_on": draft.based_on if draft else minutes.revision,
            "text_ko": source.text_ko, "text_en": source.text_en})
    comment_form = CommentForm(prefix="comment")
    comment_form.section.choices = [(s.id, s.title(current_language())) for s in minutes.sections]
    attendance_form = AttendanceForm(prefix="attendance")
    attendance_form.organisation.choices = _organisations(minutes)
    none = [(0, "—")]
    attendance_form.arrived.choices = none + [(s.id, s.title(current_language())) for s in minutes.sections]
    attendance_form.left.choices = attendance_form.arrived.choices
    recusal_form = RecusalForm(prefix="recusal")
    recusal_form.section.choices = comment_form.section.choices
    action_form = ActionItemForm(prefix="action")
    action_form.owner.choices = _organisations(minutes)
    carry_form = CarryForm(prefix="carry")
    if status.keep:
        carry_form.consultation_id.choices = [
            (c.id, c.title(current_language())) for c in db.session.scalars(
                select(Consultation).where(Consultation.organiser_id == current_user.organisation_id,
                                           Consultation.id != minutes.consultation_id,
                                           Consultation.status != CANCELLED,
                                           Consultation.agenda_frozen_at.is_(None))
                .order_by(Consultation.id.desc()).limit(50))]
    return render_template(
        "minutes/detail.html", minutes=minutes, status=status, forms=forms, drafts=drafts,
        comments=services.comments_of(minutes), chain=services.chain(minutes),
        items_of=actions.of_section, present_for=services.present_for, zone=viewer_zone(),
        circulate_form=CirculateForm(prefix="circulate"), comment_form=comment_form,
        attendance_form=attendance_form, recusal_form=recusal_form, decision_form=DecisionForm(prefix="decision"),
        action_form=action_form, status_form=ActionStatusForm(prefix="status"), carry_form=carry_form,
        button=ButtonForm(), documents=pdf.documents_of(minutes))


@bp.get(f"/{ID}/documents/<int(max=2147483647):document_id>")
@access("minutes.view")
def document(minutes_id: int, document_id: int):
    """The signed PDF of a published version, for whoever may read these minutes (every participant)."""
    minutes = _load(minutes_id)
    found = pdf.document_of(minutes, document_id)
    if found is None:
        abort(404)
    data = documents.read_document(found)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(found.download_name(current_language()),
                                                                  fallback=f"{found.reference}.pdf")
    response.headers["ETag"] = f'"{found.sha256}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    documents.record_download(current_user, found)
    return response


@bp.post(f"/{ID}/sections/{SUB}")
@access("minutes.keep")
def save_section(minutes_id: int, sub_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = SectionForm(prefix=f"s{sub_id}")
    if not form.validate_on_submit() or not (form.based_on.data or "").isdigit():
        raise _invalid(form) if form.errors else ValidationError("based_on", _("Reload the page."))
    based_on = int(form.based_on.data)
    if form.keep.data:
        services.autosave(current_user, minutes, sub_id, based_on=based_on, text_ko=form.text_ko.data,
                          text_en=form.text_en.data)
        return _back(minutes, _("Your draft of the section is kept."), f"section-{sub_id}")
    services.save_section(current_user, minutes, sub_id, based_on=based_on, text_ko=form.text_ko.data,
                          text_en=form.text_en.data)
    return _back(minutes, _("The section was saved."), f"section-{sub_id}")


@bp.post(f"/{ID}/sections/{SUB}/autosave")
@access("minutes.keep")
def autosave(minutes_id: int, sub_id: int):
    """The page's script keeps the editor's texts every few seconds: nothing to show, 204."""
    minutes = _load(minutes_id, "minutes.keep")
    form = SectionForm(prefix=f"s{sub_id}")
    if not form.validate_on_submit() or not (form.based_on.data or "").isdigit():
        raise _invalid(form) if form.errors else ValidationError("based_on", _("Reload the page."))
    services.autosave(current_user, minutes, sub_id, based_on=int(form.based_on.data), text_ko=form.text_ko.data,
                      text_en=form.text_en.data)
    return "", 204


@bp.post(f"/{ID}/sections/{SUB}/confirm/<string:language>")
@access("minutes.keep")
def confirm_translation(minutes_id: int, sub_id: int, language: str):
    minutes = _load(minutes_id, "minutes.keep")
    services.confirm_translation(current_user, minutes, sub_id, language)
    return _back(minutes, _("The translation is confirmed."), f"section-{sub_id}")


@bp.post(f"/{ID}/circulate")
@access("minutes.keep")
def circulate(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = CirculateForm(prefix="circulate")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.circulate(current_user, minutes, comment_days=form.comment_days.data)
    return _back(minutes, _("The minutes were circulated to the participants for comments."))


@bp.post(f"/{ID}/approve")
@access("minutes.keep")
def approve(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    services.approve(current_user, minutes)
    return _back(minutes, _("The minutes are approved."))


@bp.post(f"/{ID}/publish")
@access("minutes.keep")
def publish(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    services.publish(current_user, minutes)
    return _back(minutes, _("The minutes are published."))


@bp.post(f"/{ID}/amend")
@access("minutes.keep")
def amend(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    amendment = services.amend(current_user, minutes)
    return _back(amendment, _("A new version was made as a draft; the published one stays as it is."))


@bp.post(f"/{ID}/comments")
@access("minutes.comment")
def comment(minutes_id: int):
    minutes = _load(minutes_id, "minutes.comment")
    form = CommentForm(prefix="comment")
    form.section.choices = [(s.id, "") for s in minutes.sections]
    if not form.validate_on_submit():
        raise _invalid(form)
    services.comment(current_user, minutes, form.section.data, form.text.data)
    return _back(minutes, _("Your comment was recorded."), "comments")


@bp.post(f"/{ID}/attendance")
@access("minutes.keep")
def attendance(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = AttendanceForm(prefix="attendance")
    form.organisation.choices = _organisations(minutes)
    if not form.validate_on_submit():
        raise _invalid(form)
    services.set_attendance(current_user, minutes, organisation_code=form.organisation.data,
                            status=form.status.data, name=form.name.data,
                            arrived_section_id=form.arrived.data or None, left_section_id=form.left.data or None)
    return _back(minutes, _("The attendance was recorded."), "attendance")


@bp.post(f"/{ID}/attendance/{SUB}/recusal")
@access("minutes.keep")
def recusal(minutes_id: int, sub_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = RecusalForm(prefix="recusal")
    form.section.choices = [(s.id, "") for s in minutes.sections]
    if not form.validate_on_submit():
        raise _invalid(form)
    services.recuse(current_user, minutes, sub_id, form.section.data, form.reason.data)
    return _back(minutes, _("The recusal was recorded."), "attendance")


@bp.post(f"/{ID}/sections/{SUB}/decisions")
@access("minutes.keep")
def decision(minutes_id: int, sub_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = DecisionForm(prefix="decision")
    if not form.validate_on_submit():
        raise _invalid(form)
    services.add_decision(current_user, minutes, sub_id, form.text_ko.data, form.text_en.data)
    return _back(minutes, _("The decision was recorded."), f"section-{sub_id}")


@bp.post(f"/{ID}/sections/{SUB}/action-items")
@access("minutes.keep")
def action_item(minutes_id: int, sub_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = ActionItemForm(prefix="action")
    form.owner.choices = _organisations(minutes)
    if not form.validate_on_submit():
        raise _invalid(form)
    raw = [part.strip() for part in (form.requests.data or "").split(",") if part.strip()]
    if not all(part.isdigit() and len(part) < 10 for part in raw):
        raise ValidationError("requests", _("Give request numbers separated by commas."))
    actions.add(current_user, minutes, sub_id, text_ko=form.text_ko.data, text_en=form.text_en.data,
                owner_code=form.owner.data, due_on=form.due.data, request_ids=[int(part) for part in raw])
    return _back(minutes, _("The action item was added; its owner was told."), f"section-{sub_id}")


@bp.post("/action-items/<int(max=2147483647):item_id>/status")
@access("action_item.update")
def action_item_status(item_id: int):
    item = actions.get(current_user, item_id)
    form = ActionStatusForm(prefix="status")
    if not form.validate_on_submit():
        raise _invalid(form)
    actions.set_status(current_user, item, form.status.data)
    flash(_("The status of the action item was changed."), "success")
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target, code=303)
    return redirect(url_for("dashboard.home"), code=303)


@bp.post(f"/{ID}/carry-forward")
@access("minutes.keep")
def carry_forward(minutes_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    form = CarryForm(prefix="carry")
    form.consultation_id.choices = [(int(request.form.get("carry-consultation_id", "0") or 0), "")]
    if not form.validate_on_submit():
        raise _invalid(form)
    consultation = consultations.get(current_user, form.consultation_id.data)
    count = actions.carry_forward(current_user, minutes, consultation)
    flash(_("%(num)s open action items are on the agenda of the next consultation.", num=count), "success")
    return redirect(url_for("consultations.detail", consultation_id=consultation.id) + "#agenda", code=303)


@bp.get(f"/{ID}/history")
@access("minutes.view")
def history(minutes_id: int):
    minutes = _load(minutes_id)
    found = services.revisions(minutes)
    pieces = None
    old = new = None
    language = request.args.get("language", current_language())
    language = language if language in ("ko", "en") else "ko"
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if a.isdigit() and b.isdigit() and len(a) < 10 and len(b) < 10:
        old, new = services.revision_of(minutes, int(a)), services.revision_of(minutes, int(b))
        pieces = diff.compare(old.text(language), new.text(language))
    return render_template("minutes/history.html", minutes=minutes, revisions=found, pieces=pieces, old=old,
                           new=new, language=language, status=services.status_for(current_user, minutes),
                           button=ButtonForm(), zone=viewer_zone())


@bp.post(f"/{ID}/revisions/{SUB}/restore")
@access("minutes.keep")
def restore(minutes_id: int, sub_id: int):
    minutes = _load(minutes_id, "minutes.keep")
    revision = services.restore(current_user, minutes, sub_id)
    return _back(minutes, _("Revision %(num)s was restored as a new revision.", num=sub_id),
                 f"section-{revision.section_id}")
