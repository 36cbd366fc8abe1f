"""The date and time widgets every Tandem form uses.

A browser's `<input type="date">` accepts only `YYYY-MM-DD` (and `datetime-local` only
`YYYY-MM-DDTHH:MM`); anything else, such as the en-GB input format `12/05/2026` Django
renders by default, shows an empty field, and the next save erases the value. These
widgets always render the ISO form. Django's DateTimeField converts an aware value to
the current (viewer's) time zone before the widget formats it, and reads the submitted
local time in that zone, so a datetime round-trips in the viewer's zone.
"""

from django import forms

DATE_FORMAT = "%Y-%m-%d"
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATE_FORMAT)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL_FORMAT)
