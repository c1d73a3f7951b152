from flask_babel import lazy_gettext as _l
from portal.core.forms import PortalForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class ReferenceForm(PortalForm):
    reference = StringField(_l("Document reference"), validators=[DataRequired(), Length(max=64)],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    # Translators: the code printed in a PDF issued by the portal, next to its QR code (not a login code).
    code = StringField(_l("Verification code printed in the document"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"})
    submit = SubmitField(_l("Check"))


class FileForm(PortalForm):
    file = FileField(_l("PDF file"), validators=[FileRequired()], render_kw={"accept": "application/pdf,.pdf"})
    submit = SubmitField(_l("Check the file"))
