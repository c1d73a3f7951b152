"""Names of audit actions and of their details, as the audit log page shows them.

Every action code the portal writes has a name here (tests/test_audit_page.py reads the code base to
check it); a code without one, such as a row written by an older version, is shown as it is stored.
The CSV export keeps the codes and the JSON: it is for machines and auditors, this page is for people.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    # Sign-in, two-factor authentication, sessions and passwords.
    "login.success": _l("Signed in"),
    "login.password_ok": _l("Password accepted, waiting for the code"),
    "login.failure": _l("Sign-in failed"),
    "logout": _l("Signed out"),
    "account.locked": _l("Account locked after failed sign-ins"),
    "account.preferences_changed": _l("Language or time zone changed"),
    "2fa.success": _l("Two-factor code accepted"),
    "2fa.replay_refused": _l("Reused two-factor code refused"),
    "2fa.recovery_code_used": _l("Recovery code used"),
    "2fa.step_up": _l("Identity confirmed again with a code"),
    "2fa.step_up_refused": _l("Confirmation with a code refused"),
    "2fa.enrolled": _l("Two-factor authentication set up"),
    "2fa.recovery_codes_regenerated": _l("New recovery codes made"),
    "2fa.reset": _l("Two-factor authentication reset"),
    "session.revoked": _l("Session ended"),
    "password.changed": _l("Password changed"),
    "password.reset_requested": _l("Password reset requested"),
    "password.reset": _l("Password reset"),
    # Organisations, users, invitations, contacts, tokens.
    "organisation.created": _l("Organisation created"),
    "user.invited": _l("User invited"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "user.role_changed": _l("Role changed"),
    # Translators: an authorised signatory may sign commitments for their platform.
    "user.signatory_set": _l("Made an authorised signatory"),
    "user.signatory_unset": _l("No longer an authorised signatory"),
    "invitation.accepted": _l("Invitation accepted"),
    "invitation.revoked": _l("Invitation withdrawn"),
    "invitation.existing_account": _l("Invitation to an address that already has an account"),
    "contact.created": _l("Designated contact added"),
    "contact.updated": _l("Designated contact edited"),
    "contact.deactivated": _l("Designated contact deactivated"),
    "contact.reactivated": _l("Designated contact reactivated"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "demo.user_created": _l("Demo user created"),
    "demo.contact_created": _l("Demo contact created"),
    # Refusals and the administration pages themselves.
    "access.denied": _l("Access denied"),
    "refused.not_found": _l("Refused: page not found"),
    "refused.csrf": _l("Refused: form expired or forged"),
    "refused.rate_limited": _l("Refused: too many attempts"),
    "refused.api_token": _l("Refused: invalid API token"),
    "refused.capped": _l("Further refusals not recorded for a minute"),
    "audit.viewed": _l("Audit log viewed"),
    "audit.exported": _l("Audit log exported"),
    "outbox.viewed": _l("Outgoing e-mail read"),
    # Requests.
    "request.drafted": _l("Request drafted"),
    "request.draft_updated": _l("Draft edited"),
    "request.draft_deleted": _l("Draft deleted"),
    "request.items_added": _l("Items added"),
    "request.items_removed": _l("Items removed"),
    "request.viewed": _l("Request viewed"),
    "request.item_viewed": _l("Request item viewed"),
    "request.outcomes_set": _l("Outcomes reported"),
    "request.message_posted": _l("Message posted"),
    "request.note_added": _l("Internal note added"),
    "request.attachment_added": _l("Attachment added"),
    "request.attachment_downloaded": _l("Attachment downloaded"),
    "request.submit": _l("Request submitted for approval"),
    "request.send_back": _l("Request sent back to the drafter"),
    "request.issue": _l("Request approved and issued"),
    "request.withdraw": _l("Request withdrawn"),
    "request.acknowledge": _l("Request acknowledged"),
    "request.respond": _l("Response submitted"),
    "request.close": _l("Request closed"),
    "request.reopen": _l("Request reopened"),
    "request.extension_requested": _l("Extension requested"),
    "request.extension_granted": _l("Extension granted"),
    "request.extension_refused": _l("Extension refused"),
    "request.reminder_sent": _l("Deadline reminder sent"),
    "request.overdue": _l("Request deadline passed"),
    "request.very_overdue": _l("Request very overdue: escalated"),
    "legal_basis.added": _l("Legal basis added"),
    "legal_basis.activated": _l("Legal basis put back in use"),
    "legal_basis.retired": _l("Legal basis retired"),
    "deadline_policy.set": _l("Deadline policy changed"),
    # Documents.
    "document.issued": _l("Document issued"),
    "document.downloaded": _l("Document downloaded"),
    "document.verified": _l("Document verified"),
    # Consultations.
    "consultation.created": _l("Consultation created"),
    "consultation.updated": _l("Consultation edited"),
    "consultation.slot_added": _l("Proposed time added"),
    "consultation.slot_removed": _l("Proposed time removed"),
    "consultation.times_chosen": _l("Times chosen by the platform"),
    "consultation.counter_proposed": _l("Other time proposed"),
    "consultation.counter_accepted": _l("Other time accepted"),
    "consultation.counter_declined": _l("Other time declined"),
    # Translators: an invitee answered whether they will attend.
    "consultation.rsvp": _l("Attendance answered"),
    "consultation.reminded": _l("Consultation reminder sent"),
    "consultation.agenda_added": _l("Added to the agenda"),
    "consultation.agenda_removed": _l("Taken off the agenda"),
    "consultation.agenda_frozen": _l("Agenda fixed"),
    "consultation.propose": _l("Times proposed"),
    "consultation.schedule": _l("Consultation scheduled"),
    "consultation.reschedule": _l("Consultation rescheduled"),
    "consultation.hold": _l("Consultation marked as held"),
    "consultation.cancel": _l("Consultation cancelled"),
    # Minutes and action items.
    "minutes.created": _l("Minutes started"),
    "minutes.section_saved": _l("Minutes section saved"),
    "minutes.commented": _l("Comment on the minutes"),
    "minutes.attendance": _l("Attendance recorded"),
    "minutes.recusal": _l("Recusal recorded"),
    "minutes.decision": _l("Decision recorded"),
    "minutes.amended": _l("Amendment of the minutes started"),
    "minutes.carried_forward": _l("Action items carried forward"),
    "minutes.circulate": _l("Minutes circulated for comments"),
    "minutes.approve": _l("Minutes approved"),
    "minutes.publish": _l("Minutes published"),
    "minutes.supersede": _l("Minutes superseded by an amendment"),
    "action_item.assigned": _l("Action item assigned"),
    "action_item.status": _l("Action item status changed"),
    "action_item.due_reminded": _l("Action item reminder sent"),
    "action_item.overdue_reminded": _l("Overdue action item reminder sent"),
    # Commitments.
    "commitment_template.created": _l("Commitment template created"),
    "commitment.created": _l("Commitment assigned"),
    "commitment.viewed": _l("Commitment viewed"),
    "commitment.document_fixed": _l("Commitment document fixed for signature"),
    "commitment.send_for_signature": _l("Commitment sent for signature"),
    "commitment.sign": _l("Commitment signed by the platform"),
    "commitment.platform_signature_applied": _l("Platform's signature applied to the document"),
    "commitment.countersign": _l("Commitment countersigned by the agency"),
    "commitment.agency_signature_applied": _l("Agency's signature applied to the document"),
    "commitment.expire": _l("Commitment expired"),
    "commitment.supersede": _l("Commitment superseded"),
    "commitment.withdraw": _l("Commitment withdrawn"),
    "commitment.reminded": _l("Commitment renewal reminder sent"),
    "commitment.renewed": _l("Commitment renewal drafted"),
    # Webhooks.
    "webhook.endpoint_registered": _l("Webhook endpoint registered"),
    "webhook.endpoint_enabled": _l("Webhook endpoint enabled"),
    "webhook.endpoint_disabled": _l("Webhook endpoint disabled"),
    "webhook.endpoint_deleted": _l("Webhook endpoint deleted"),
    "webhook.ping_queued": _l("Webhook test sent"),
}

# The keys most details use; any other key is shown as it is stored.
DETAIL_LABELS = {
    "reason": _l("Reason"),
    # Translators: the state before a change, in the details of an audit event.
    "from": _l("From"),
    # Translators: the state after a change, in the details of an audit event.
    "to": _l("To"),
    "item": _l("Item"),
    "items": _l("Items"),
    "added": _l("Number added"),
    "merged": _l("Number merged"),
    "removed": _l("Number removed"),
    "outcome": _l("Outcome"),
    "status": _l("Status"),
    "code": _l("Code"),
    "kind": _l("Kind"),
    "type": _l("Type"),
    "name": _l("Name"),
    "role": _l("Role"),
    "reference": _l("Reference"),
    "organisation": _l("Organisation"),
    "owner": _l("Owner"),
    "platform": _l("Platform"),
    "version": _l("Version"),
    "sha256": _l("SHA-256"),
    "message": _l("Message"),
    "note": _l("Note"),
    "attachment": _l("Attachment"),
    "consultation": _l("Consultation"),
    "minutes": _l("Minutes"),
    "section": _l("Section"),
    "slot": _l("Proposed time"),
    "slots": _l("Proposed times"),
    "response": _l("Answer"),
    "language": _l("Language"),
    "timezone": _l("Time zone"),
    "purpose": _l("Purpose"),
    "permission": _l("Permission"),
    # Translators: the HTTP method of a refused request (GET, POST).
    "method": _l("Method"),
    # Translators: the page's address pattern in a refused request.
    "path": _l("Page"),
    # Translators: the portal's internal name of the page that refused a request.
    "endpoint": _l("Route"),
    "filters": _l("Filters"),
    "actor_email": _l("Actor"),
    "organisation_id": _l("Organisation"),
    "action": _l("Action"),
    "date_from": _l("From (date)"),
    "date_to": _l("To (date)"),
    # Translators: paging of the audit log: the events shown were older than this sequence number.
    "before": _l("Older than"),
    # Translators: paging of the audit log: the events shown were newer than this sequence number.
    "after": _l("Newer than"),
    "max_rows": _l("At most rows"),
    "left": _l("Left"),
    "known": _l("Known address"),
    "limit": _l("Limit"),
}


# What an event was about: `audit_type` of the model, else its class name in lower case (core/audit.py).
OBJECT_LABELS = {
    "user": _l("User"),
    "session": _l("Session"),
    "organisation": _l("Organisation"),
    "invitation": _l("Invitation"),
    "passwordreset": _l("Password reset"),
    "recoverycode": _l("Recovery code"),
    "designated_contact": _l("Designated contact"),
    "api_token": _l("API token"),
    "request": _l("Request"),
    "request_item": _l("Item of a request"),
    "request_message": _l("Message"),
    "request_note": _l("Internal note"),
    "request_attachment": _l("Attachment"),
    "request_extension": _l("Extension request"),
    "requestevent": _l("Step of a request"),
    "requestread": _l("Read mark"),
    "legal_basis": _l("Legal basis"),
    "deadline_policy": _l("Deadline rule"),
    "document": _l("Issued document"),
    "consultation": _l("Consultation"),
    "participant": _l("Participant"),
    "invitee": _l("Invitee"),
    "slot": _l("Proposed time"),
    "slotchoice": _l("Answer on a proposed time"),
    "agendaitem": _l("Agenda item"),
    "attendance": _l("Attendance"),
    "minutes": _l("Minutes"),
    "section": _l("Section of the minutes"),
    "revision": _l("Revision of the minutes"),
    "comment": _l("Comment"),
    "decision": _l("Decision"),
    "action_item": _l("Action item"),
    "recusal": _l("Recusal"),
    "commitment": _l("Commitment"),
    "commitment_template": _l("Commitment template"),
    "commitment_signature": _l("Signature of a commitment"),
    "draft": _l("Draft"),
    "webhook_endpoint": _l("Webhook endpoint"),
    "webhookattempt": _l("Webhook delivery"),
    "outbox_message": _l("E-mail"),
}


def object_name(code: str | None) -> str:
    """What an event was about, in the current language; its stored code when it has no name."""
    label = OBJECT_LABELS.get(code)
    return str(label) if label is not None else (code or "")


def action_name(code: str) -> str:
    """The action's name in the current language, or its code when it has none."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def _value_text(value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{name}: {text}" for name, text in readable_details(value))
    return str(value)


def readable_details(details: dict | None) -> list[tuple[str, str]]:
    """An event's details as (name, text) pairs for people: keys named in the current language, lists
    joined, nested objects inline. Plain text: the template escapes it."""
    return [(str(DETAIL_LABELS.get(key, key)), _value_text(value)) for key, value in (details or {}).items()]


TEMPLATE_HELPERS = {"action_name": action_name, "object_name": object_name, "readable_details": readable_details}
