"""A whole case through `desk case ...`: register --queue, call, claim, session, outcome, the printed agreement,
finish, close, follow-up; refused and invalid steps exit 2 and write nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from desk.cli import EXIT_INVALID, EXIT_OK, main
from desk.services.setup import init_hall
from desk.store.models import CaseEvent
from desk.store.session import open_store
from tests.conftest import add_tester, visit

NOW = "2026-11-27T10:00:00+08:00"
SESSION = {
    "attendees": [
        {"name": "张三", "role": "party"},
        {"name": "李四", "role": "party"},
        {"name": "王调解", "role": "mediator"},
        {"name": "赵干事", "role": "department", "department": "街道城管办"},
    ],
    "statements": [
        {"speaker": "张三", "text": "院墙外杂物堵住通道"},
        {"speaker": "李四", "text": "愿意清理"},
    ],
    "agreed": "李四清理杂物，双方互不追究",
    "terms": ["李四于2026年12月5日前清理院墙外杂物", "双方就此纠纷互不追究"],
    "started_at": "2026-11-27T10:05:00+08:00",
    "ended_at": "2026-11-27T10:50:00+08:00",
}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = open_store(url)
    init_hall(store)
    add_tester(store)
    store.dispose()
    monkeypatch.setenv("DESK_NOW", NOW)
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args])
    out, err = capsys.readouterr()
    return code, out, err


def event_count(url: str) -> int:
    store = open_store(url)
    try:
        with store.read() as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) or 0)
    finally:
        store.dispose()


def test_a_whole_case_from_the_command_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parties = [
        {"role": "applicant", "name": "张三", "phone": "13912345678"},
        {"role": "respondent", "name": "李四", "phone": "13912345679"},
    ]
    visit_file = tmp_path / "visit.json"
    visit_file.write_text(json.dumps(visit(parties=parties), ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "register", "--file", str(visit_file), "--queue", "--db", db)
    assert code == EXIT_OK
    case_no, ticket = out.splitlines()
    assert ticket == "A001 → R01 人民调解室"
    assert run(capsys, "call", "--room", "R01", "--db", db)[:2] == (EXIT_OK, "A001\n")
    code, out, _ = run(capsys, "case", "claim", case_no, "--terminal", "R01-终端1", "--db", db)
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 调解中：接待 A001")

    # refused: nobody has recorded an outcome; exit 2, the reason, nothing written
    before = event_count(db)
    code, out, err = run(capsys, "case", "close", case_no, "--db", db)
    assert (code, out) == (EXIT_INVALID, "") and "案件尚未记录调解结果，不能办结" in err
    # invalid: a session file with a bad attendee names the field
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"attendees": [{"name": "张三", "role": "judge"}]}), encoding="utf-8")
    code, _, err = run(capsys, "case", "session", case_no, "--file", str(bad), "--db", db)
    assert code == EXIT_INVALID and "attendees[0].role" in err
    assert event_count(db) == before

    session = tmp_path / "session.json"
    session.write_text(json.dumps(SESSION, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "case", "session", case_no, "--file", str(session), "--db", db)
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 调解中：已记录第 1 次调解笔录")
    code, out, _ = run(
        capsys,
        "case",
        "outcome",
        case_no,
        "--result",
        "resolved",
        "--performance",
        "李四自行清理",
        "--performance-by",
        "2026-12-05",
        "--db",
        db,
    )
    assert code == EXIT_OK and "人民调解协议书 620702001-2026-调0001" in out
    before = event_count(db)
    code, _, err = run(capsys, "case", "outcome", case_no, "--result", "partly", "--reason", "x", "--db", db)
    assert code == EXIT_INVALID and "案件已记录调解结果（已化解），不能再记录调解结果；请办结" in err
    assert event_count(db) == before

    pdf = tmp_path / "agreement.pdf"
    code, _, _ = run(capsys, "receipt", case_no, "--format", "agreement", "--out", str(pdf), "--db", db)
    assert code == EXIT_OK
    if shutil.which("pdftotext") is not None:
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        flat = "".join(text.split())
        assert "人民调解协议书" in flat and "编号：620702001-2026-调0001" in flat
        assert "1.李四于2026年12月5日前清理院墙外杂物" in flat and "2.双方就此纠纷互不追究" in flat
        assert "李四自行清理" in flat and "人民调解员：王调解" in flat
        assert "三十日内" in flat and "司法确认" in flat

    assert run(capsys, "case", "finish", case_no, "--choice", "outcome", "--db", db)[0] == EXIT_OK
    code, out, _ = run(capsys, "case", "close", case_no, "--summary", "协议已签订", "--db", db)
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 已办结：已办结，回访安排在 2026-12-04")
    code, out, _ = run(capsys, "case", "follow-ups", "--day", "2026-12-04", "--json", "--db", db)
    assert [c["case_no"] for c in json.loads(out)] == [case_no]

    monkeypatch.setenv("DESK_NOW", "2026-12-04T15:00:00+08:00")
    code, out, _ = run(
        capsys,
        "case",
        "follow-up",
        case_no,
        "--method",
        "phone",
        "--held",
        "yes",
        "--satisfaction",
        "满意",
        "--db",
        db,
    )
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 已回访：已回访")
    before = event_count(db)
    code, _, err = run(capsys, "case", "session", case_no, "--file", str(session), "--db", db)
    assert code == EXIT_INVALID and "案件已办结并已回访，不能再记录调解笔录" in err
    assert event_count(db) == before

    code, out, _ = run(capsys, "case", "show", case_no, "--json", "--db", db)
    shown = json.loads(out)
    assert shown["state"] == "followed_up" and shown["deadline"]["due_on"] == "2026-12-28"
    assert shown["outcome"]["agreement_no"] == "620702001-2026-调0001"
    assert shown["follow_ups"][0]["satisfaction"] == "satisfied"
    assert [t["kind"] for t in shown["timeline"]] == [
        "registered",
        "deadline_set",
        "routed",
        "ticket_issued",
        "called",
        "claimed",
        "session_recorded",
        "outcome_recorded",
        "document_printed",
        "service_finished",
        "case_closed",
        "follow_up_scheduled",
        "followed_up",
    ]
    code, out, _ = run(capsys, "case", "show", case_no, "--db", db)
    assert code == EXIT_OK
    assert f"案件 {case_no}  已回访" in out and "期限：人民调解，2026-11-27 起算，2026-12-28 到期" in out
    assert "调解结果：调解成功，协议书 620702001-2026-调0001" in out and "可办理：回访、重新调解" in out


def test_deadline_steps_and_transfer_from_the_command_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visit_file = tmp_path / "visit.json"
    visit_file.write_text(json.dumps(visit(), ensure_ascii=False), encoding="utf-8")
    case_no = run(capsys, "register", "--file", str(visit_file), "--db", db)[1].strip()
    code, out, _ = run(capsys, "case", "pause", case_no, "--reason", "等待鉴定", "--db", db)
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 已受理：办理期限已中止")
    code, _, err = run(capsys, "case", "pause", case_no, "--reason", "再次", "--db", db)
    assert code == EXIT_INVALID and "期限已中止" in err
    assert run(capsys, "case", "resume", case_no, "--db", db)[0] == EXIT_OK
    before = event_count(db)
    code, _, err = run(
        capsys,
        "case",
        "extend",
        case_no,
        "--days",
        "3",
        "--approved-by",
        "主任甲",
        "--reason",
        "复杂",
        "--db",
        db,
    )
    assert code == EXIT_INVALID and err.startswith("days: ") and "最多可延长 1个月" in err
    assert event_count(db) == before
    code, out, _ = run(
        capsys,
        "case",
        "extend",
        case_no,
        "--days",
        "1",
        "--approved-by",
        "主任甲",
        "--reason",
        "复杂",
        "--db",
        db,
    )
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 已受理：办理期限延长至 2027-01-28")
    code, out, _ = run(
        capsys,
        "case",
        "transfer",
        case_no,
        "--to",
        "litigation",
        "--to-name",
        "甘州区人民法院",
        "--reason",
        "当事人选择诉讼",
        "--db",
        db,
    )
    assert (code, out.strip()) == (EXIT_OK, f"{case_no} 已转办：已转办至诉讼（甘州区人民法院）")
    code, _, err = run(capsys, "case", "withdraw", case_no, "--reason", "撤回", "--db", db)
    assert code == EXIT_INVALID and "案件已转办，不能再撤回" in err
