"""Names and explanations of the measures as people read them (the definitions are in `measures`)."""
from flask_babel import lazy_gettext as _l

MEASURE_LABELS = {
    "received": _l("Requests received"),
    "acknowledged": _l("Acknowledged"),
    "acted": _l("Acted on (every item answered)"),
    "within_deadline": _l("Acted within the deadline"),
    "decided": _l("Decided (acted, or deadline passed)"),
    "overdue_now": _l("Overdue now"),
    "very_overdue_now": _l("Very overdue now"),
    "extension_asked": _l("Extension asked"),
    "extension_granted": _l("Extension granted"),
    "withdrawn": _l("Withdrawn (not counted)"),
    "outcome": _l("Items with this outcome"),
}

# One paragraph per measure for the page that explains them (reports.explain).
EXPLANATIONS = [
    (_l("Period"), _l("A request belongs to the period in which it was issued. A period runs from 00:00 KST "
                      "on its first day up to, but not including, 00:00 KST on the day after its last day.")),
    (_l("Withdrawn requests"), _l("Requests the agency withdrew are left out of every measure and counted "
                                  "apart.")),
    (_l("Time to acknowledge"), _l("Hours from the issue of a request until the platform acknowledged it.")),
    (_l("Time to act"), _l("Hours from the issue of a request until every item had a final outcome (removed, "
                           "blocked in Korea, restricted, not found, or declined with a reason). An item that "
                           "needs information is not yet answered.")),
    (_l("Median and 90th percentile"), _l("The median is the middle value: half the requests took less time. "
                                          "The 90th percentile is the time nine requests in ten stayed under "
                                          "(linear interpolation between the nearest values).")),
    (_l("Time-to-act distribution"), _l("The transparency report counts the requests acted on by how long "
                                        "they took: under 6 hours, 6 to 24 hours, 1 to 3 days, 3 to 7 days, and "
                                        "7 days or more. A request that took exactly 24 hours counts in 1 to 3 "
                                        "days.")),
    (_l("Deadline in force"), _l("The request's deadline as it stands: the one computed from the deadline "
                                 "policy when it was issued, or the new one set by an extension granted or "
                                 "when the request was reopened.")),
    (_l("Within deadline"), _l("Every item had a final outcome before the deadline in force. An answer at the "
                               "very moment of the deadline is late. The share is counted over the requests "
                               "already decided: answered, or whose deadline has passed; requests whose "
                               "deadline still runs are not counted against the platform.")),
    (_l("95 per cent interval"), _l("The Wilson score interval: the range in which the platform's true share lies "
                             "with 95 per cent confidence, given how few or many requests it rests on.")),
    (_l("Overdue and very overdue now"), _l("Requests still owed an answer whose deadline has passed, and those "
                                            "past twice the time allowed, at the moment the page is read.")),
    (_l("Outcome mix"), _l("The items of the period's requests by the outcome the platform recorded.")),
    (_l("Small numbers"), _l("When fewer than 5 requests are behind a figure, the count is shown but no "
                             "share, which would mislead.")),
    (_l("Corrections"), _l("Figures are computed from the requests every time they are read. An outcome "
                           "recorded late or an extension granted afterwards changes the figures of the "
                           "period in which the request was issued.")),
]


def measure_name(value) -> str:
    return str(MEASURE_LABELS.get(value, value or ""))
