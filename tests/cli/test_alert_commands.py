"""`desk case whistle...`, `desk warnings` and `desk department`: the steps,
their output, and exit 2 with nothing written when a step is refused."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from desk.cli import EXIT_ERROR, EXIT_INVALID, EXIT_OK, main
from desk.core.clock import FixedClock
from desk.services.county import seed_departments
from desk.services.registration import RegistrationService
from desk.store.models import CaseEvent
from desk.store.session import Store
from tests.conftest import NOW, staff, visit

DESK_NOW = "2026-11-27T10:00:00+08:00"  # = tests.conftest.NOW


@pytest.fixture
def db(store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed_departments(store)
    monkeypatch.setenv("DESK_NOW", DESK_NOW)
    return store_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def events(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0)


def test_whistle_steps(
    store: Store, db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_no = RegistrationService(store, FixedClock(NOW), principal=staff()).register(visit()).case_no
    code, out, _ = run(
        capsys, "case", "whistle", case_no, "--dept", "housing", "--dept", "police",
        "--matter", "院墙外违章搭建", "--db", db, "--json",
    )  # fmt: skip
    assert code == EXIT_OK
    blown = json.loads(out)
    whistle_id = blown["whistle_id"]
    assert blown["report_by"] == "2026-12-02T15:59:59+00:00"  # the end of Wednesday 12-02, China time
    assert [d["department_name"] for d in blown["departments"]] == ["区住建局", "城关派出所"]

    code, out, _ = run(
        capsys, "case", "whistle-sign", whistle_id, "--dept", "housing", "--by", "李科长", "--db", db
    )
    assert code == EXIT_OK and "已记录签收：区住建局" in out and "签收" in out and "按时" in out
    before = events(store)
    code, _, err = run(
        capsys, "case", "whistle-sign", whistle_id, "--dept", "housing", "--by", "李科长", "--db", db
    )
    assert code == EXIT_INVALID and "不能重复签收" in err
    code, _, err = run(
        capsys, "case", "whistle-arrive", whistle_id, "--dept", "police", "--by", "王警官", "--db", db
    )
    assert code == EXIT_INVALID and "尚未签收" in err
    code, _, err = run(
        capsys, "case", "whistle-arrive", whistle_id, "--dept", "housing", "--by", "张工",
        "--at", "2026-11-27 10:30", "--db", db,
    )  # fmt: skip
    assert code == EXIT_INVALID and "--at" in err and "时区" in err
    assert events(store) == before

    code, out, _ = run(
        capsys, "case", "whistle-arrive", whistle_id, "--dept", "housing", "--by", "张工",
        "--at", "2026-11-27T09:59:00+08:00", "--db", db,
    )  # fmt: skip
    assert code == EXIT_INVALID  # before the whistle was blown
    monkeypatch.setenv("DESK_NOW", "2026-11-27T10:30:00+08:00")  # each command's clock starts at DESK_NOW
    code, out, _ = run(
        capsys,
        "case",
        "whistle-arrive",
        whistle_id,
        "--dept",
        "housing",
        "--by",
        "张工",
        "--db",
        db,
        "--json",
    )
    assert code == EXIT_OK and json.loads(out)["arrived_by"] == "张工"
    code, out, _ = run(
        capsys,
        "case",
        "whistle-report",
        whistle_id,
        "--dept",
        "housing",
        "--result",
        "已限期拆除",
        "--db",
        db,
    )
    assert code == EXIT_OK and "已记录反馈" in out
    code, out, _ = run(
        capsys,
        "case",
        "whistle-rate",
        whistle_id,
        "--dept",
        "housing",
        "--rating",
        "满意",
        "--db",
        db,
        "--json",
    )
    assert code == EXIT_OK and json.loads(out)["rating"] == "satisfied"


def test_a_refused_whistle_writes_nothing(store: Store, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    case_no = RegistrationService(store, FixedClock(NOW), principal=staff()).register(visit()).case_no
    before = events(store)
    code, _, err = run(
        capsys, "case", "whistle", case_no, "--dept", "nowhere", "--matter", "事项", "--db", db
    )
    assert code == EXIT_INVALID and "departments[0]" in err and "不在部门目录中" in err
    assert events(store) == before
    code, _, err = run(
        capsys,
        "case",
        "whistle",
        "620702001-2026-999999",
        "--dept",
        "housing",
        "--matter",
        "事项",
        "--db",
        db,
    )
    assert code == EXIT_ERROR and "不存在" in err


def test_department(store: Store, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "department", "--db", db)
    assert code == EXIT_OK and out.splitlines()[0].startswith("xinfang  区信访局")
    case_no = RegistrationService(store, FixedClock(NOW), principal=staff()).register(visit()).case_no
    blown = run(
        capsys,
        "case",
        "whistle",
        case_no,
        "--dept",
        "court",
        "--matter",
        "诉前调解",
        "--db",
        db,
        "--json",
    )
    whistle_id = json.loads(blown[1])["whistle_id"]
    run(capsys, "case", "whistle-sign", whistle_id, "--dept", "court", "--by", "书记员", "--db", db)
    code, out, _ = run(capsys, "department", "court", "--db", db, "--json")
    record = json.loads(out)
    assert code == EXIT_OK and record["name"] == "区人民法院"
    assert record["clocks"]["sign"] == {"on_time": 1, "late": 0, "pending": 0, "rate": 1.0}
    assert record["clocks"]["report"]["pending"] == 1 and record["on_time_rate"] == 1.0
    assert [w["matter"] for w in record["whistles"]] == ["诉前调解"]
    code, out, _ = run(capsys, "department", "court", "--db", db)
    assert "按时率 100%" in out and "签收：按时 1" in out
    code, _, err = run(capsys, "department", "nowhere", "--db", db)
    assert code == EXIT_ERROR and "不在部门目录中" in err


def test_warnings_list_ack_and_sweep(
    store: Store, db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_no = (
        RegistrationService(store, FixedClock(NOW), principal=staff())
        .register(visit(narrative="我不想活了"))
        .case_no
    )
    code, out, _ = run(capsys, "warnings", "--db", db)
    assert code == EXIT_OK and "重大" in out and case_no in out and "不想活" not in out
    (w,) = json.loads(run(capsys, "warnings", "--db", db, "--json")[1])["open"]
    assert (w["kind"], w["level"]) == ("crisis", "serious")

    monkeypatch.setenv("DESK_NOW", "2026-11-27T10:11:00+08:00")
    code, out, _ = run(capsys, "warnings", "--sweep", "--db", db, "--json")
    swept = json.loads(out)
    assert code == EXIT_OK and [x["id"] for x in swept["realerted"]] == [w["id"]] and swept["raised"] == []
    code, out, _ = run(capsys, "warnings", "--sweep", "--db", db)
    assert "新发预警 0 条，重大预警再次提醒 0 条" in out

    code, out, _ = run(capsys, "warnings", "--ack", w["id"], "--by", "值班长", "--db", db)
    assert code == EXIT_OK and "已确认已阅" in out and "测试员（tester）" in out and "没有未阅的预警" in out
    before = events(store)
    code, _, err = run(capsys, "warnings", "--ack", w["id"], "--db", db)
    assert code == EXIT_INVALID and "已由 测试员（tester）@命令行 于 2026-11-27 10:11 确认已阅" in err
    assert events(store) == before
