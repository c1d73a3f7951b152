"""Charts of the transparency report, drawn with matplotlib's object API (Figure, not pyplot: thread-safe,
no GUI backend) into SVG whose text stays text (`svg.fonttype` none) in NanumGothic, so WeasyPrint sets it
with the documents' font and its missing-glyph check covers the charts too. A glyph matplotlib itself
cannot find is an error, not an empty box."""
from __future__ import annotations

import io
import warnings

from markupsafe import Markup

FONT = "NanumGothic"
RC = {"font.family": FONT, "svg.fonttype": "none", "pdf.fonttype": 42, "axes.unicode_minus": False}


def _svg(figure) -> Markup:
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("error", message=".*findfont.*")
        figure.savefig(out, format="svg", bbox_inches="tight")
    text = out.getvalue()
    return Markup(text[text.index("<svg"):])


def _bars(count: int):
    """A figure of horizontal bars, one row per platform: (figure, axes)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 0.4 + 0.35 * max(count, 1)))
    return figure, figure.add_subplot()


def share_within_deadline(rows: list[dict]) -> Markup:
    """Share within deadline per platform with its 95 % Wilson interval (cells without a share are left out)."""
    import matplotlib

    shown = [r for r in rows if r["within_deadline_share"] is not None]
    with matplotlib.rc_context(RC):
        figure, ax = _bars(len(shown))
        names = [r["platform"] for r in shown]
        shares = [r["within_deadline_share"] for r in shown]
        low = [s - r["ci95_low"] for s, r in zip(shares, shown)]
        high = [r["ci95_high"] - s for s, r in zip(shares, shown)]
        ax.barh(names, shares, xerr=[low, high], color="#256ef4", capsize=3)
        ax.set_xlim(0, 1)
        ax.set_xlabel("기한 내 조치 비율 / Share within deadline (95% CI)")
        return _svg(figure)


def _columns(width: float = 6.5):
    """A figure of vertical bars: (figure, axes)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 2.8))
    return figure, figure.add_subplot()


TYPE_COLOURS = ("#256ef4", "#f0a030", "#3aa675", "#9b59b6")


def requests_per_month(months: list[dict], names: dict[str, tuple[str, str]]) -> Markup:
    """Requests issued per KST month, stacked by type (`names`: type -> (Korean, English))."""
    import matplotlib

    with matplotlib.rc_context(RC):
        figure, ax = _columns(4.4)  # the legend beside it takes the rest of the page's width
        labels = [m["month"] for m in months]
        bottom = [0] * len(months)
        for (kind, (ko, en)), colour in zip(names.items(), TYPE_COLOURS):
            heights = [m["counts"][kind] for m in months]
            ax.bar(labels, heights, bottom=bottom, color=colour, width=0.6, label=f"{ko} / {en}")
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.set_ylabel("요청 수 / Requests")
        ax.set_xlabel("발행 월(KST) / Month of issue (KST)")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(axis="x", labelrotation=45 if len(months) > 6 else 0)
        pad = max(0.0, (4 - len(months)) / 2)  # a period of one month keeps a bar of ordinary width
        ax.set_xlim(-0.6 - pad, len(months) - 0.4 + pad)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        return _svg(figure)


def act_distribution(bins: list[tuple[str, str, str]], counts: list[int]) -> Markup:
    """The time-to-act distribution: requests acted on per bin of hours (`bins`: (key, Korean, English))."""
    import matplotlib

    with matplotlib.rc_context(RC):
        figure, ax = _columns()
        labels = [f"{ko}\n{en}" for _key, ko, en in bins]
        bars = ax.bar(labels, counts, color="#256ef4")
        ax.bar_label(bars, labels=[str(n) for n in counts])
        ax.set_ylabel("조치 완료 요청 수 / Requests acted on")
        ax.set_xlabel("발행부터 조치까지 걸린 시간 / Time from issue to action")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.margins(y=0.15)
        return _svg(figure)
