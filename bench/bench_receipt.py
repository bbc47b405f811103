"""Receipt rendering benchmark: one receipt PDF, warm, against an empty page with the same canvas setup.

`python -m bench.bench_receipt [--renders 300] [--json FILE] [--write-results]`

- Receipt: `desk.printing.receipt.render_receipt` on a full `ReceiptData` (ticket, room, wait, masked ID, QR code),
  timed from the call to the PDF bytes, after a warm-up (the font is registered and parsed once per process).
- Baseline: the same `Canvas` setup (80 mm page, page compression, the CJK font as initial font, title) with one
  line of Chinese text, saved: the fixed cost of producing any PDF with the embedded font subset.
Budget (the printing issue): one receipt ≤ 50 ms warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import common
from bench.common import Timing
from desk.core.documents import ReceiptData
from desk.printing.fonts import register_cjk_font
from desk.printing.receipt import render_receipt

BUDGET_MS = 50.0
START_MARKER = "<!-- bench_receipt:start -->"
END_MARKER = "<!-- bench_receipt:end -->"

DATA = ReceiptData(
    center_name="甘州区东街街道综治中心",
    center_phone="0936-8212335",
    case_no="620702001-2026-000123",
    category="邻里纠纷",
    registered_at=dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC),
    applicant_masked_name="张*丰",
    applicant_masked_id="620702********1238",
    ticket="A012",
    room_name="1号人民调解室",
    room_location="一楼东侧",
    estimated_wait_minutes=15,
    status_url="https://zz.gzq.gov.cn/s/Xq3vB0kT9mZpL2rW8sYdQA",
    printed_at=dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC),
)


@dataclass(frozen=True)
class ReceiptResult:
    renders: int
    receipt_80mm: Timing
    receipt_a5: Timing
    baseline: Timing
    pdf_bytes: int


def empty_page() -> bytes:
    """The baseline: the receipt's canvas setup, one line of text (so the font subset is embedded), saved."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    font = register_cjk_font()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(80 * mm, 150 * mm), pageCompression=1, initialFontName=font)
    c.setTitle("受理回执")
    c.setFont(font, 9)
    c.drawString(4 * mm, 140 * mm, "受理回执")
    c.showPage()
    c.save()
    return buf.getvalue()


def time_it(fn: Callable[[], bytes], n: int) -> Timing:
    for _ in range(20):  # warm-up
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return Timing.of(samples)


def run(*, renders: int = 300) -> ReceiptResult:
    r80 = time_it(lambda: render_receipt(DATA), renders)
    a5 = time_it(lambda: render_receipt(DATA, fmt="a5"), renders)
    base = time_it(empty_page, renders)
    return ReceiptResult(renders, r80, a5, base, len(render_receipt(DATA)))


def describe(r: ReceiptResult) -> str:
    t, a, b = r.receipt_80mm, r.receipt_a5, r.baseline
    ok = "PASS" if t.p99 <= BUDGET_MS else "FAIL"
    return (
        f"receipt 80mm: p50={t.p50:.2f} p95={t.p95:.2f} p99={t.p99:.2f} max={t.max:.2f} ms [{ok} <= {BUDGET_MS:g} ms]"
        f"; A5 p50={a.p50:.2f} p99={a.p99:.2f} ms; empty page (same canvas) p50={b.p50:.2f} p99={b.p99:.2f} ms "
        f"(ratio p50 {t.p50 / b.p50:.1f}x); PDF {r.pdf_bytes:,} bytes"
    )


def render(r: ReceiptResult) -> str:
    import platform

    t, a, b = r.receipt_80mm, r.receipt_a5, r.baseline
    ok = "PASS" if t.p99 <= BUDGET_MS else "**FAIL**"
    ok_a = "PASS" if a.p99 <= BUDGET_MS else "**FAIL**"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            START_MARKER,
            "## Printing: one receipt PDF (`bench/bench_receipt.py`)",
            "",
            f"Written by `python -m bench.bench_receipt --write-results` on {when} ({platform.node()}, same machine as "
            f"above). {r.renders} renders each after 20 warm-up renders, in one process (the CJK font is parsed once). "
            "A receipt: centre, title, ticket, room, the case fields, the QR code as vector squares, embedded font "
            f"subset; {r.pdf_bytes:,} bytes. Baseline: the same canvas setup with one line of Chinese, saved.",
            "",
            "| work | budget | measured | baseline | ratio (p50) | result |",
            "|---|---|---|---|---|---|",
            f"| receipt, 80 mm roll (`render_receipt`) | ≤ {BUDGET_MS:g} ms | p50 {t.p50:.2f} ms, p95 {t.p95:.2f}, "
            f"p99 {t.p99:.2f} (max {t.max:.2f}) | empty page p50 {b.p50:.2f} ms, p99 {b.p99:.2f} | "
            f"{t.p50 / b.p50:.1f}× | {ok} |",
            f"| receipt, A5 | ≤ {BUDGET_MS:g} ms | p50 {a.p50:.2f} ms, p95 {a.p95:.2f}, p99 {a.p99:.2f} "
            f"(max {a.max:.2f}) | the same | {a.p50 / b.p50:.1f}× | {ok_a} |",
            END_MARKER,
        ]
    )


def write_section(section: str, path: Path) -> None:
    common.write_section(section, path, start=START_MARKER, end=END_MARKER)


def update_results(path: Path, *, renders: int = 300) -> ReceiptResult:
    r = run(renders=renders)
    write_section(render(r), path)
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--renders", type=int, default=300)
    p.add_argument("--json", type=Path)
    p.add_argument("--write-results", action="store_true", help="(re)write its section of bench/RESULTS.md")
    args = p.parse_args(argv)
    r = run(renders=args.renders)
    print(describe(r))
    if args.write_results:
        write_section(render(r), Path(__file__).with_name("RESULTS.md"))
    if args.json:
        args.json.write_text(json.dumps(asdict(r), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
