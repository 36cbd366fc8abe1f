"""SLA timers follow the incident lifecycle.

The incidents service calls these hooks inside its own transaction, so a timer change
and the incident change commit (or roll back) together.
"""


def sla_on_incident_created(*, incident, at):
    """Start the response and resolution timers of a new incident."""


def sla_on_incident_changed(*, incident, changes, at, actor=None):
    """React to a committed change of an incident.

    `changes` maps field names to (old, new): status and hold_reason pause, resume or stop
    timers; priority, service, customer and type re-select the policy and recompute the
    due instants from the original start.
    """


def sla_on_public_reply(*, incident, at):
    """The first public reply meets the response timer."""
