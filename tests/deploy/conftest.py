from tests.integration.conftest import rb2ansible_module  # noqa: F401 - shared fixture
