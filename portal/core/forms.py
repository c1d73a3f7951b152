"""Form mechanisms: copy a service's refusal onto the field it names."""
from flask_wtf import FlaskForm

from portal.core.exceptions import DomainError, ValidationError
from portal.core import transaction


def refuse(form: FlaskForm, error: DomainError) -> None:
    """Undo whatever the refused service had flushed and show its message on the form."""
    transaction.discard()
    field = getattr(error, "field", None) if isinstance(error, ValidationError) else None
    if field and field in form:
        form[field].errors = list(form[field].errors) + [str(error.message)]
    else:
        form.form_errors.append(str(error.message))
