"""The encrypted fields' form fields: the plaintext limit, the widget and the form class."""

from django import forms

from portal.models import Patient


def _field(name):
    return Patient._meta.get_field(name)


def test_a_char_field_offers_a_one_line_input_limited_to_the_plaintext_length():
    formfield = _field("last_name").formfield()
    assert isinstance(formfield, forms.CharField)
    assert isinstance(formfield.widget, forms.TextInput)
    assert formfield.max_length == 100


def test_a_text_field_offers_a_text_area():
    formfield = _field("notes").formfield()
    assert isinstance(formfield.widget, forms.Textarea)
    assert formfield.max_length == 2000


def test_a_date_field_keeps_its_date_form_field():
    assert isinstance(_field("birth_date").formfield(), forms.DateField)


def test_a_field_with_choices_offers_a_choice():
    assert isinstance(_field("sex").formfield(), forms.TypedChoiceField)


def test_a_given_form_class_is_used():
    formfield = _field("last_name").formfield(form_class=forms.EmailField)
    assert isinstance(formfield, forms.EmailField)
    assert formfield.max_length == 100
    date_field = _field("birth_date").formfield(form_class=forms.CharField)
    assert type(date_field) is forms.CharField
