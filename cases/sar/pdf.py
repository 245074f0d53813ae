"""The SAR as a paginated PDF filing document (reportlab).

Every piece of text from the case goes through ``_p`` (escaped for reportlab's paragraph markup,
so a narrative cannot inject markup), and a Unicode TrueType font is used when the system has one
(DejaVu Sans), falling back to the Bitstream Vera fonts reportlab ships.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from transactions.money import format_amount

from .document import Party, ReportTransaction, SarDocument, TransactionSide, clean_text

INK = colors.HexColor("#1b2430")
MUTED = colors.HexColor("#5b6675")
RULE = colors.HexColor("#c9d1db")
HEAD = colors.HexColor("#e8edf3")
ACCENT = colors.HexColor("#8a1c1c")

_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)


@cache
def _fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once."""
    for regular, bold in _FONT_CANDIDATES:
        if Path(regular).exists() and Path(bold).exists():
            pdfmetrics.registerFont(TTFont("SarSans", regular))
            pdfmetrics.registerFont(TTFont("SarSans-Bold", bold))
            return "SarSans", "SarSans-Bold"
    import reportlab

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont("SarVera", str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("SarVera-Bold", str(folder / "VeraBd.ttf")))
    return "SarVera", "SarVera-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=12, textColor=INK)
    return {
        "body": base,
        "title": ParagraphStyle("title", base, fontName=bold, fontSize=16, leading=20),
        "subtitle": ParagraphStyle("subtitle", base, textColor=MUTED, fontSize=9),
        "h2": ParagraphStyle(
            "h2",
            base,
            fontName=bold,
            fontSize=11,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "label": ParagraphStyle("label", base, fontName=bold, fontSize=8, textColor=MUTED),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.5),
        "cellhead": ParagraphStyle("cellhead", base, fontName=bold, fontSize=7.5, leading=9.5),
        "num": ParagraphStyle("num", base, fontSize=7.5, leading=9.5, alignment=TA_RIGHT),
        "numbold": ParagraphStyle(
            "numbold", base, fontName=bold, fontSize=7.5, leading=9.5, alignment=TA_RIGHT
        ),
        "small": ParagraphStyle("small", base, fontSize=7, leading=9, textColor=MUTED),
    }


def _p(text: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text: escaped, line breaks kept."""
    safe = escape(clean_text(text)).replace("\n", "<br/>")
    return Paragraph(safe or "&#8212;", _styles()[style])


def _table(rows: list[list], widths: list[float], *, header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), HEAD),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK),
        ]
    table.setStyle(TableStyle(commands))
    return table


def _key_values(pairs: list[tuple[str, object]], width: float) -> Table:
    rows = [[_p(key, "label"), _p(value)] for key, value in pairs]
    table = Table(rows, colWidths=[42 * mm, width - 42 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _side_text(side: TransactionSide, doc: SarDocument) -> str:
    party = doc.party(side.party_reference) if side.party_reference else None
    lines = []
    if party is not None:
        lines.append(party.name + (" (our client)" if side.my_client else ""))
    elif side.person is not None:
        lines.append(side.person.full_name)
    elif side.entity is not None:
        lines.append(side.entity.name)
    if side.account is not None:
        bank = side.account.swift or side.account.institution_code or side.account.institution_name
        lines.append(" · ".join(part for part in (f"acct {side.account.account}", bank) if part))
    if side.funds_comment:
        lines.append(side.funds_comment)
    if side.country:
        lines.append(side.country)
    return "\n".join(lines) or "not identified"


def _party_row(party: Party) -> list:
    return [
        _p(party.name, "cell"),
        _p(party.role, "cell"),
        _p(party.kind, "cell"),
        _p(party.reference, "cell"),
        _p(party.country, "cell"),
        _p("yes" if party.is_my_client else "no", "cell"),
        _p(", ".join(party.account_numbers), "cell"),
        _p(str(party.transaction_count), "num"),
    ]


def _tx_row(tx: ReportTransaction, doc: SarDocument) -> list:
    local = (
        format_amount(tx.amount_local, doc.currency_code_local)
        if tx.amount_local is not None
        else ""
    )
    return [
        _p(tx.date_transaction.strftime("%Y-%m-%d %H:%M %Z").strip(), "cell"),
        _p(tx.transactionnumber, "cell"),
        _p(tx.transmode_code, "cell"),
        _p(_side_text(tx.t_from, doc), "cell"),
        _p(_side_text(tx.t_to, doc), "cell"),
        _p(f"{format_amount(tx.amount, tx.currency)} {tx.currency}", "num"),
        _p(local, "num"),
    ]


def _rates_table(used: list[dict], local: str) -> list:
    """The stored rates the local amounts were converted with: each named with its day and
    who published it."""
    head = ("Currency", f"{local} per unit", "Published", "Source", "Transactions")
    rows = [[_p(h, "cellhead") for h in head]]
    for rate in used:
        rows.append(
            [
                _p(rate["currency"], "cell"),
                _p(format(rate["rate"], "f"), "num"),
                _p(rate["date"].isoformat() if rate["date"] else "", "cell"),
                _p(rate["source"], "cell"),
                _p(str(rate["count"]), "num"),
            ]
        )
    return [
        Paragraph("Exchange rates used", _styles()["h2"]),
        _table(rows, [22 * mm, 35 * mm, 25 * mm, 30 * mm, 25 * mm]),
    ]


class _NumberedCanvas(canvas.Canvas):
    """Draws "page N of M" and the running header/footer once the page count is known."""

    def __init__(self, *args, header: str = "", footer: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._saved: list[dict] = []
        self._header = header
        self._footer = footer

    def showPage(self):  # noqa: N802  reportlab's API
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        regular, bold = _fonts()
        width, height = A4
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(18 * mm, height - 14 * mm, width - 18 * mm, height - 14 * mm)
        self.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
        self.setFont(bold, 8)
        self.setFillColor(INK)
        self.drawString(18 * mm, height - 12 * mm, self._header)
        self.setFont(regular, 7)
        self.setFillColor(ACCENT)
        self.drawString(18 * mm, 10 * mm, self._footer)
        self.setFillColor(MUTED)
        self.drawRightString(width - 18 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")
        self.restoreState()


def render_pdf(doc: SarDocument) -> bytes:
    styles = _styles()
    buffer = io.BytesIO()
    entity = doc.reporting_entity
    title = f"Suspicious activity report ({doc.report_code})"
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{title} {clean_text(doc.entity_reference)}",
        author=clean_text(entity.name),
        subject="goAML suspicious activity report",
        creator="Sentinel",
    )
    width = A4[0] - 36 * mm
    story: list = [
        Paragraph(escape(title), styles["title"]),
        _p(doc.title or f"{entity.name} · reference {doc.entity_reference}", "subtitle"),
        Spacer(1, 6),
    ]

    period = doc.period
    total_local = doc.total_local()
    person = entity.reporting_person
    story += [
        Paragraph("Reporting entity", styles["h2"]),
        _key_values(
            [
                ("Institution", entity.name),
                ("goAML entity id", entity.rentity_id),
                ("Branch", entity.rentity_branch),
                ("SWIFT / code", entity.swift or entity.institution_code),
                (
                    "Reporting person",
                    ", ".join(p for p in (person.full_name, person.occupation, person.email) if p),
                ),
                ("Report code", f"{doc.report_code} (submission {doc.submission_code})"),
                ("Entity reference", doc.entity_reference),
                ("Report date", doc.submission_date.isoformat()),
                ("Local currency", doc.currency_code_local),
                (
                    "Period covered",
                    f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d}"
                    if period
                    else "no transactions",
                ),
                ("Transactions", len(doc.transactions)),
                (
                    "Total (local)",
                    f"{format_amount(total_local, doc.currency_code_local)} "
                    f"{doc.currency_code_local}"
                    if total_local is not None
                    else "",
                ),
            ],
            width,
        ),
        Paragraph("Reason for suspicion", styles["h2"]),
        _p(doc.reason),
    ]
    if doc.action:
        story += [Paragraph("Action taken", styles["h2"]), _p(doc.action)]

    if doc.indicators:
        rows = [[_p("Indicator", "cellhead"), _p("Description", "cellhead")]]
        rows += [[_p(i.code, "cell"), _p(i.label or i.typology, "cell")] for i in doc.indicators]
        story += [Paragraph("Indicators", styles["h2"]), _table(rows, [45 * mm, width - 45 * mm])]

    subject = doc.subject
    if subject is not None:
        story += [
            Paragraph("Subject", styles["h2"]),
            _key_values(
                [
                    ("Name", subject.name),
                    ("Kind", subject.kind),
                    ("Customer id", subject.reference),
                    ("Country", subject.country),
                    ("Accounts", ", ".join(subject.account_numbers)),
                ],
                width,
            ),
        ]

    if doc.parties:
        head = ["Name", "Role", "Kind", "Reference", "Country", "Client", "Accounts", "Txs"]
        rows = [[_p(h, "cellhead") for h in head]] + [_party_row(p) for p in doc.parties]
        widths = [38 * mm, 20 * mm, 14 * mm, 26 * mm, 14 * mm, 12 * mm, 38 * mm, 12 * mm]
        story += [Paragraph("Involved persons and entities", styles["h2"]), _table(rows, widths)]

    if doc.accounts:
        head = ["Account", "Institution", "SWIFT / code", "Currency", "Holder"]
        rows = [[_p(h, "cellhead") for h in head]]
        for account in doc.accounts:
            rows.append(
                [
                    _p(account.account, "cell"),
                    _p(account.institution_name, "cell"),
                    _p(account.swift or account.institution_code, "cell"),
                    _p(account.currency_code, "cell"),
                    _p(account.account_name, "cell"),
                ]
            )
        widths = [35 * mm, 45 * mm, 30 * mm, 18 * mm, width - 128 * mm]
        story += [Paragraph("Subject's accounts", styles["h2"]), _table(rows, widths)]

    if doc.transactions:
        head = ["Date", "Reference", "Mode", "From", "To", "Amount", doc.currency_code_local]
        rows = [[_p(h, "cellhead") for h in head]] + [_tx_row(tx, doc) for tx in doc.transactions]
        widths = [22 * mm, 22 * mm, 16 * mm, 37 * mm, 37 * mm, 21 * mm, 19 * mm]
        story += [Paragraph("Transactions", styles["h2"]), _table(rows, widths)]

        totals = [[_p(h, "cellhead") for h in ("Currency", "Transactions", "Total")]]
        for currency, (count, total) in doc.totals_by_currency().items():
            totals.append(
                [
                    _p(currency, "cell"),
                    _p(str(count), "num"),
                    _p(f"{format_amount(total, currency)} {currency}", "numbold"),
                ]
            )
        if total_local is not None:
            totals.append(
                [
                    _p(f"All, in {doc.currency_code_local}", "cell"),
                    _p(str(len(doc.transactions)), "num"),
                    _p(
                        f"{format_amount(total_local, doc.currency_code_local)} "
                        f"{doc.currency_code_local}",
                        "numbold",
                    ),
                ]
            )
        story.append(
            KeepTogether(
                [
                    Paragraph("Totals per currency", styles["h2"]),
                    _table(totals, [30 * mm, 25 * mm, 45 * mm]),
                ]
            )
        )
        if used := doc.exchange_rates_used():
            story.append(KeepTogether(_rates_table(used, doc.currency_code_local)))

    story += [
        Spacer(1, 10),
        _p(
            "Machine-readable versions of this report (goAML-shaped XML and JSON) are exported "
            "with it and validated against docs/schemas/sentinel-goaml-sar.xsd and "
            "sentinel-goaml-sar.schema.json.",
            "small",
        ),
    ]

    header = clean_text(f"{title} · {doc.entity_reference} · {entity.name}")[:120]
    footer = "CONFIDENTIAL: suspicious activity report. Do not disclose to the subject."

    def make_canvas(*args, **kwargs):
        return _NumberedCanvas(*args, header=header, footer=footer, **kwargs)

    pdf.build(story, canvasmaker=make_canvas)
    return buffer.getvalue()
