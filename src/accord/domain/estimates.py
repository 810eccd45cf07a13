"""How long a workflow's execution is expected to take (`estimatedDuration`, in seconds).

Past runs say it best: the median duration of the workflow's latest completed runs. A
workflow that never completed borrows from the other workflows made from its template; a
new one with neither gets a flat allowance per step. The median, not the mean, so that one
run that waited an hour on a question does not inflate every later estimate.
"""

from collections.abc import Sequence
from statistics import median

SECONDS_PER_STEP = 60
"""The allowance per step before any run: a model call or two, a review, a question."""
RUNS_CONSIDERED = 10
"""How many of the latest completed runs the median is taken over."""


def estimate_duration(
    own_runs: Sequence[int], template_runs: Sequence[int], step_count: int
) -> int:
    """Seconds: the median of `own_runs`, else of `template_runs`, else per step."""
    for durations in (own_runs, template_runs):
        if durations:
            return max(1, round(median(durations[:RUNS_CONSIDERED])))
    return max(1, step_count) * SECONDS_PER_STEP
