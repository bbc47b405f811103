"""Finding a person or case among 1,000,000 cases: `search_cases` for each kind of key, against a primary-key get.

Budget (DESIGN.md): <= 50 ms p95 for ID number, phone, case number, name and pinyin initials.
Each search goes through `RegistrationService.search` -- a unit of work around `search_cases`, as the window
calls it -- with keys taken from random real cases of the store; the registration form's known-person panel
(`RegistrationService.person_cases`, asked as soon as an ID number is typed) is measured the same way. The baseline is `session.get(CaseRow, id)` in
a unit of work of its own. Kinds are measured round-robin so they share whatever the machine is doing.

`python -m bench.bench_search --db URL [--n 300]`
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bench.common import Timing, bench_vault
from desk.core.clock import SystemClock
from desk.core.permissions import operator as staff
from desk.core.synthetic import COMPOUND_SURNAMES
from desk.services.registration import RegistrationService
from desk.store.models import CaseRow, Counter, Hall, PartyRow
from desk.store.repositories import CaseSummary
from desk.store.session import Store, open_store

BUDGET_P95_MS = 50.0
KINDS = {
    "id": "ID number (exact, blind index)",
    "phone": "phone (exact, blind index)",
    "case_no": "case number (exact)",
    "name": "name: a real full name (prefix)",
    "surname": "name: surname only (prefix, limit 50)",
    "initials": "pinyin initials of a real name (prefix)",
    "person": "known-person panel: person_cases(id_number=...)",
}
BASELINE = "primary-key get of a case (session.get)"


@dataclass(frozen=True)
class KindResult:
    kind: str
    timing: Timing
    mean_hits: float
    found_share: float  # the sampled case was among the results (expected 1.0 for exact keys)
    examples: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.timing.p95 <= BUDGET_P95_MS


@dataclass
class SearchResult:
    dialect: str
    server_version: str
    cases: int
    parties: int
    kinds: list[KindResult]
    baseline: Timing
    plans: dict[str, list[str]] = field(default_factory=dict)


def surname(name: str) -> str:
    for s in COMPOUND_SURNAMES:
        if name.startswith(s):
            return s
    if "·" in name:
        return name.split("·")[0]
    return name[:1]


def sample_cases(store: Store, n: int, rng: random.Random) -> list[tuple[str, str, list[PartyRow]]]:
    """`n` random cases (id, case number, parties), chosen by case number from the per-year counters."""
    with store.unit_of_work() as s:
        hall = s.scalars(sa.select(Hall).where(Hall.is_local)).one()
        years = [
            (int(c.name.split(":")[1]), c.value)
            for c in s.scalars(
                sa.select(Counter).where(Counter.hall_code == hall.code, Counter.name.like("case:%"))
            )
        ]
        weights = [v for _, v in years]
        numbers: set[str] = set()
        while len(numbers) < min(n, sum(weights)):
            year, count = rng.choices(years, weights)[0]
            numbers.add(f"{hall.code}-{year}-{rng.randint(1, count):06d}")
        found = []
        ordered = sorted(numbers)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            cases = s.execute(sa.select(CaseRow.id, CaseRow.case_no).where(CaseRow.case_no.in_(chunk))).all()
            parties: dict[str, list[PartyRow]] = {}
            for p in s.scalars(sa.select(PartyRow).where(PartyRow.case_id.in_([c.id for c in cases]))):
                parties.setdefault(p.case_id, []).append(p)
            found += [
                (c.id, c.case_no, sorted(parties.get(c.id, []), key=lambda p: p.position)) for c in cases
            ]
        rng.shuffle(found)
        return found


def make_queries(store: Store, n: int, seed: int) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """(kind -> [(search text, case id)], case ids for the baseline), `n` of each, from random real cases."""
    rng = random.Random(seed)
    cases = sample_cases(store, n * 3, rng)
    vault = bench_vault()  # the stored numbers are sealed: a clerk types them in clear

    def id_of(p: PartyRow) -> str:
        return vault.open(p.id_number, field="id_number") or ""

    def phone_of(p: PartyRow) -> str:
        return vault.open(p.phone, field="phone") or ""

    queries: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    for case_id, case_no, parties in cases:
        people = [p for p in parties if not p.is_organisation]
        queries["case_no"].append((case_no, case_id))
        if with_id := [p for p in people if p.id_number]:
            queries["id"].append((id_of(rng.choice(with_id)), case_id))
            queries["person"].append((id_of(rng.choice(with_id)), case_id))
        if with_phone := [p for p in parties if p.phone]:
            queries["phone"].append((phone_of(rng.choice(with_phone)), case_id))
        if people:
            person = rng.choice(people)
            queries["name"].append((person.name, case_id))
            queries["surname"].append((surname(person.name), case_id))
            if person.name_initials:
                queries["initials"].append((person.name_initials, case_id))
    return {k: v[:n] for k, v in queries.items()}, [c[0] for c in cases[:n]]


class StatementLog:
    """The SQL statements (with parameters) a block of code sends: for showing their query plans."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def _record(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))

    def __enter__(self) -> StatementLog:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


def finder(svc: RegistrationService, kind: str) -> Callable[[str], list[CaseSummary]]:
    """What the window calls for a query of this kind."""
    if kind == "person":
        return lambda text: svc.person_cases(id_number=text)
    return svc.search


def query_plans(store: Store, kind: str, text: str) -> list[str]:
    """The plan of every SELECT one search sends (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE)."""
    find = finder(RegistrationService(store, SystemClock(), principal=staff()), kind)
    with StatementLog(store.engine) as log:
        find(text)
    out = []
    with store.engine.connect() as c:
        for statement, params in log.statements:
            out.append("-- " + " ".join(statement.split())[:300])
            if store.dialect == "sqlite":
                rows = c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                out += [f"   {r[-1]}" for r in rows]
            else:
                rows = c.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, params).all()
                out += [f"   {r[0]}" for r in rows]
    return out


def _timed(fn: Callable[[], Any]) -> tuple[int, Any]:
    t0 = time.perf_counter_ns()
    out = fn()
    return time.perf_counter_ns() - t0, out


def run(url: str, *, n: int = 300, warmup: int = 30, seed: int = 11, plans: bool = True) -> SearchResult:
    store = open_store(url)
    try:
        svc = RegistrationService(store, SystemClock(), principal=staff())
        with store.engine.connect() as c:
            n_cases = int(c.exec_driver_sql("SELECT count(*) FROM cases").scalar() or 0)
            n_parties = int(c.exec_driver_sql("SELECT count(*) FROM parties").scalar() or 0)
            version = str(
                c.exec_driver_sql(
                    "SELECT sqlite_version()" if store.dialect == "sqlite" else "SHOW server_version"
                ).scalar()
            )
        queries, case_ids = make_queries(store, n + warmup, seed)

        def get_case(case_id: str) -> Any:
            with store.unit_of_work() as s:
                return s.get(CaseRow, case_id)

        finders = {k: finder(svc, k) for k in KINDS}
        # Warm-up: a first pass over other keys (imports, statement caches, the pages of the indexes).
        for i in range(warmup):
            for kind, qs in queries.items():
                if i < len(qs):
                    finders[kind](qs[i][0])
            get_case(case_ids[i])

        samples: dict[str, list[int]] = {k: [] for k in KINDS}
        hits: dict[str, list[int]] = {k: [] for k in KINDS}
        found: dict[str, list[bool]] = {k: [] for k in KINDS}
        base: list[int] = []
        for i in range(warmup, n + warmup):
            for kind, qs in queries.items():
                if i >= len(qs):
                    continue
                text, case_id = qs[i]
                ns, result = _timed(lambda find=finders[kind], text=text: find(text))  # type: ignore[misc]
                samples[kind].append(ns)
                hits[kind].append(len(result))
                found[kind].append(any(r.id == case_id for r in result))
            ns, row = _timed(lambda i=i: get_case(case_ids[i]))  # type: ignore[misc]
            assert row is not None
            base.append(ns)

        kinds = [
            KindResult(
                k,
                Timing.of(samples[k]),
                sum(hits[k]) / len(hits[k]),
                sum(found[k]) / len(found[k]),
                tuple(q for q, _ in queries[k][warmup : warmup + 3]),
            )
            for k in KINDS
            if samples[k]
        ]
        result = SearchResult(store.dialect, version, n_cases, n_parties, kinds, Timing.of(base))
        if plans:
            for k in KINDS:
                if queries[k]:
                    result.plans[k] = query_plans(store, k, queries[k][0][0])
        return result
    finally:
        store.dispose()


def describe(r: SearchResult) -> str:
    lines = [f"search on {r.dialect} {r.server_version}: {r.cases:,} cases, {r.parties:,} parties"]
    for k in r.kinds:
        t = k.timing
        lines.append(
            f"  {KINDS[k.kind]:<48} p50={t.p50:6.2f} p95={t.p95:6.2f} p99={t.p99:6.2f} ms  "
            f"{t.p95 / r.baseline.p95:5.1f}x base  hits {k.mean_hits:5.1f}  found {k.found_share:4.0%}  "
            f"[{'PASS' if k.passed else 'FAIL'}]"
        )
    b = r.baseline
    lines.append(f"  {BASELINE:<48} p50={b.p50:6.2f} p95={b.p95:6.2f} p99={b.p99:6.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_search", description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, metavar="URL")
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--plans", action="store_true", help="print the query plans")
    args = p.parse_args(argv)
    r = run(args.db, n=args.n)
    print(describe(r))
    if args.plans:
        for kind, plan in r.plans.items():
            print(f"\n[{kind}]")
            print("\n".join(plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
