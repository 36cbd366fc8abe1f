# The authorization matrix's `world` (every role, a board, an SLA calendar, ...) serves the
# audit walk over the same configuration endpoints.
from tests.api.test_authorization_matrix import world  # noqa: F401
