"""WTForms for the staff workspace. Field checks that the CSV import shares live in webapp/units (fields.py,
validation.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.units.fields import FACT_FIELDS, FIELD_LABELS
from webapp.units.vocab import WEEKDAYS

FACT_CHOICES = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No")), SelectChoice("", _l("Not known"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:  # noqa: ANN001
        # Unknown codes are reported by webapp.units.validation.validate with a clear message.
        pass


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(_l("Enter your e-mail address.")),
                                                         Length(max=200)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password.")), Length(max=200)])
    next = HiddenField()


class SignOutForm(FlaskForm):
    pass


class UnitForm(FlaskForm):
    version = HiddenField()
    name_fi = StringField(FIELD_LABELS["name_fi"])
    name_sv = StringField(FIELD_LABELS["name_sv"])
    description_fi = TextAreaField(FIELD_LABELS["description_fi"])
    description_sv = TextAreaField(FIELD_LABELS["description_sv"])
    street_fi = StringField(FIELD_LABELS["street_fi"])
    street_sv = StringField(FIELD_LABELS["street_sv"])
    postcode = StringField(FIELD_LABELS["postcode"])
    municipality_code = SelectField(FIELD_LABELS["municipality_code"], choices=[], validate_choice=False)
    lat = StringField(FIELD_LABELS["lat"])
    lon = StringField(FIELD_LABELS["lon"])
    phone = StringField(FIELD_LABELS["phone"])
    email = StringField(FIELD_LABELS["email"])
    website = StringField(FIELD_LABELS["website"])
    capacity = StringField(FIELD_LABELS["capacity"])
    accepting_new = BooleanField(FIELD_LABELS["accepting_new"])
    services = MultiCheckboxField(FIELD_LABELS["services"], choices=[])
    languages = MultiCheckboxField(FIELD_LABELS["languages"], choices=[])
    accessibility_note_fi = TextAreaField(FIELD_LABELS["accessibility_note_fi"])
    accessibility_note_sv = TextAreaField(FIELD_LABELS["accessibility_note_sv"])
    accessibility_note_en = TextAreaField(FIELD_LABELS["accessibility_note_en"])
    hours_0 = StringField(WEEKDAYS[0])
    hours_1 = StringField(WEEKDAYS[1])
    hours_2 = StringField(WEEKDAYS[2])
    hours_3 = StringField(WEEKDAYS[3])
    hours_4 = StringField(WEEKDAYS[4])
    hours_5 = StringField(WEEKDAYS[5])
    hours_6 = StringField(WEEKDAYS[6])
    exceptions = TextAreaField(FIELD_LABELS["exceptions"])


for _name in FACT_FIELDS:  # one yes / no / not known choice per accessibility fact
    setattr(UnitForm, _name, RadioField(FIELD_LABELS[_name], choices=FACT_CHOICES, default="", validate_choice=False))


class NewUnitForm(UnitForm):
    pilot = SelectField(_l("Pilot"), choices=[], validate_choice=False)
    provider = SelectField(_l("Provider"), choices=[], validate_choice=False)
    element = SelectField(_l("Type of unit"), choices=[], validate_choice=False)


class VisibilityForm(FlaskForm):
    version = HiddenField()


class ProviderForm(FlaskForm):
    name = StringField(_l("Name of the provider"),
                       validators=[InputRequired(_l("Enter the name of the provider.")),
                                   Length(max=200, message=_l("Use at most 200 characters."))])
    y_tunnus = StringField(_l("Y-tunnus (business ID)"), validators=[InputRequired(_l("Enter the Y-tunnus."))])
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    website = StringField(_l("Web address"), validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


class PtvImportForm(FlaskForm):
    file = FileField(_l("PTV JSON file"))
    pilot = SelectField(_l("Pilot"), choices=[], validate_choice=False)
    provider = SelectField(_l("Provider"), choices=[], validate_choice=False)
    element = SelectField(_l("Type of unit"), choices=[], validate_choice=False)


class ApplyImportForm(FlaskForm):
    token = HiddenField()


class QueueTimesForm(FlaskForm):
    measured_on = DateField(_l("Measured on"), validators=[InputRequired(_l("Enter the date of the measurement."))])


class PaperChoiceForm(FlaskForm):
    hetu = StringField(_l("Personal identity code (henkilötunnus)"), render_kw={"autocomplete": "off"})
    unit = SelectField(_l("Unit"), choices=[], validate_choice=False)
