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


def hours_to_act(rows: list[dict]) -> Markup:
    """Median and 90th percentile hours to act per platform."""
    import matplotlib

    shown = [r for r in rows if r["median_hours_to_act"] is not None]
    with matplotlib.rc_context(RC):
        figure, ax = _bars(len(shown))
        names = [r["platform"] for r in shown]
        ax.barh(names, [r["p90_hours_to_act"] or 0 for r in shown], color="#b1cefb", label="90% / p90")
        ax.barh(names, [r["median_hours_to_act"] for r in shown], color="#256ef4", label="중앙값 / median")
        ax.set_xlabel("조치 시간(시간) / Hours to act")
        ax.legend()
        return _svg(figure)
