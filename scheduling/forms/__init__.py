"""Forms of the booking pages, the workplaces, the clinic's schedule pages and catalogue,
one module a page area."""
