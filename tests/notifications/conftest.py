from tests.donations.conftest import fundraiser, organiser  # noqa: F401 - shared fixtures
