from pathlib import Path

from portal.permissions import render_roles_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_role_table_matches_the_capability_table():
    text = README.read_text()
    start = text.index("<!-- roles-table:start -->") + len("<!-- roles-table:start -->")
    end = text.index("<!-- roles-table:end -->")
    assert text[start:end].strip() == render_roles_table().strip()


def test_the_readme_names_both_commands():
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text
