"""The plain views of cases the services return (`RegistrationService.search`, `.case`, `.person_cases`), named here
so the windows need not import the store to annotate them."""

from __future__ import annotations

from desk.store.queries.tickets import BookedVisitor
from desk.store.repositories import CaseDetail, CaseSummary, EventView, PartyView

__all__ = ["BookedVisitor", "CaseDetail", "CaseSummary", "EventView", "PartyView"]
