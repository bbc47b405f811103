"""The `case_stages` view: what the status page and the kiosk may know of a case, and nothing personal.

One row per case, looked up by its `status_token` (the view's filter goes down to the unique index on
`cases.status_token`): the case's state and outcome, where it was transferred to (a court or a department,
never a person), its latest ticket (label, state, how many wait ahead of it in the room's queue) and that
ticket's room. No name, no party column, no narrative, no event payload but a transfer's target.

The view is made by migration 20261208_0008 (both engines). On PostgreSQL the status server's role
(`desk_status`, `desk.store.roles`) has SELECT on this view and on nothing else: a view reads its tables with
its owner's rights, so the role never needs `cases`, `tickets`, `rooms` or `case_events` themselves.

It is a Table of its own MetaData, not of `Base.metadata`: `create_all` and Alembic's comparison must not take
it for a table.
"""

from __future__ import annotations

import sqlalchemy as sa

from desk.store.base import UTCDateTime

VIEW_NAME = "case_stages"

metadata = sa.MetaData()

case_stages = sa.Table(
    VIEW_NAME,
    metadata,
    sa.Column("status_token", sa.String(32)),
    sa.Column("case_no", sa.String(30)),
    sa.Column("state", sa.String(20)),
    sa.Column("outcome", sa.String(20)),
    sa.Column("updated_at", UTCDateTime),
    # the latest TransferredOut's target (a transferred case only): its kind ("litigation", ...) and name
    sa.Column("transfer_kind", sa.String(40)),
    sa.Column("transfer_to", sa.String(200)),
    # the case's latest ticket (by its update time, then number) and its room
    sa.Column("ticket", sa.String(8)),
    sa.Column("ticket_state", sa.String(12)),
    sa.Column("ticket_updated_at", UTCDateTime),
    sa.Column("ahead", sa.Integer),  # waiting tickets ahead of it in its room's queue (a waiting ticket only)
    sa.Column("room_code", sa.String(12)),
    sa.Column("room_name", sa.String(40)),
    sa.Column("room_location", sa.String(60)),
)
