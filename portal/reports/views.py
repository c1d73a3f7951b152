"""Pages of reports: the scorecard, the measures explained, the requests behind a figure, the transparency
CSV. Views parse the period, call one service and choose a response; nothing here writes."""
from __future__ import annotations

import hashlib

from flask import Response, flash, render_template, request, url_for
from flask_login import current_user

from portal.core import clock, policy
from portal.core.exceptions import ValidationError
from portal.core.policy import access
from portal.reports import bp, labels, services, transparency
from portal.reports.measures import MEASURES, MIN_CELL
from portal.requests.models import OUTCOMES


def _period():
    try:
        return services.period_from(request.args.get("from"), request.args.get("to"))
    except ValidationError as exc:
        flash(str(exc.message), "error")
        return services.default_period()


@bp.get("/")
@access("report.view")
def scorecard():
    period = _period()
    figures = services.scorecard(current_user, period, request.args.get("platform") or None)
    return render_template("reports/scorecard.html", period=period, figures=figures,
                           platforms=services.platform_choices(current_user),
                           chosen=request.args.get("platform") or "", outcomes=OUTCOMES, min_cell=MIN_CELL,
                           can_export=policy.can(current_user, "report.export"),
                           stamp=transparency.stamp(clock.now()))


@bp.get("/measures")
@access("report.view")
def explain():
    return render_template("reports/measures.html", explanations=labels.EXPLANATIONS, min_cell=MIN_CELL)


@bp.get("/requests")
@access("report.view")
def behind():
    period = _period()
    measure = request.args.get("measure", "received")
    outcome = request.args.get("outcome") or None
    platform, rows, more = services.requests_behind(current_user, period, request.args.get("platform") or None,
                                                    measure, outcome)
    acted = services.acted_at([r.id for r in rows])
    return render_template("reports/requests.html", period=period, platform=platform, rows=rows, more=more,
                           measure=measure, outcome=outcome, acted=acted, measures=MEASURES,
                           limit=services.MAX_BEHIND,
                           can_open={r.id: policy.can(current_user, "request.view", r) for r in rows})


def _report():
    at = services.moment_from(request.args.get("at"))
    return transparency.build(services.period_from(request.args.get("from"), request.args.get("to")), now=at)


def _links(report) -> dict:
    args = {"from": report.period.start.isoformat(), "to": report.period.end.isoformat(),
            "at": transparency.stamp(report.generated_at)}
    return args


@bp.get("/transparency.csv")
@access("report.export")
def transparency_csv():
    report = _report()
    data = transparency.to_csv(report)
    name = transparency.filename(report.period)
    checksum = url_for("reports.transparency_csv_sha256", **_links(report))
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
        # The checksum file of this very file: the same period read as at the same moment.
        "Link": f'<{checksum}>; rel="describedby"; type="text/plain"',
        "Cache-Control": "no-store"})


@bp.get("/transparency.csv.sha256")
@access("report.export")
def transparency_csv_sha256():
    """The checksum of the CSV with the same `from`, `to` and `at` (the figures as at that moment)."""
    report = _report()
    name = transparency.filename(report.period)
    return Response(transparency.sha256_line(transparency.to_csv(report), name), mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{name}.sha256"',
                             "Cache-Control": "no-store"})


@bp.get("/transparency.pdf")
@access("report.export")
def transparency_pdf():
    """The report as a signed PDF, recorded (and so verifiable at /verify) in a deferred write: GETs read."""
    from portal.core import documents, transaction

    report = _report()
    prepared = transparency.prepare_pdf(report, current_user.organisation, current_user.id)
    transaction.write(lambda: documents.record_document(prepared))
    name = transparency.filename(report.period).removesuffix(".csv") + ".pdf"
    return Response(prepared.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": prepared.sha256,
        "Cache-Control": "no-store"})
