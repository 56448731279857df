"""What a modem does with a command line of several commands, pure: from one probe's answer.

V.250 §5.2.1 lets extended commands share a line (``AT+CMGD=1;+CMGD=2``): one round trip for
many deletions. Not every modem takes it, and their refusals differ: some refuse the whole line
before running any of it, some run the first command and refuse the rest (V.250 §5.6: "commands
preceding the erroneous command may have been executed"), some run the first and ignore the
rest. Which one matters when deleting: after a line that failed part-way, an index may be free
already and hold a newer message, so it must be read again before it is deleted; after a line
of which nothing ran, it need not.

The probe reads a setting twice (``AT+CMGF?;+CMGF?``): harmless, mandatory in 27.005, and each
command that runs leaves a line, so the answer says how much of the line ran.
"""

from __future__ import annotations

import enum

__all__ = ["PROBE", "Concatenation", "concatenation_from"]

PROBE = "AT+CMGF?;+CMGF?"
_PROBE_ANSWER = "+CMGF:"


class Concatenation(enum.Enum):
    """How a modem treats a line of several commands."""

    UNKNOWN = "unknown"  # not probed on this connection yet
    RUNS_ALL = "runs all"  # in order, up to the first error (V.250)
    REFUSED = "refused"  # refused as a whole: nothing on the line ran
    FIRST_ONLY = "first only"  # ran the first command, then refused or ignored the rest

    @property
    def joins_deletes(self) -> bool:
        """Whether deletions go several to a line."""
        return self is Concatenation.RUNS_ALL


def concatenation_from(lines: tuple[str, ...], ok: bool) -> Concatenation:
    """What the answer to ``PROBE`` (its response lines, and whether it ended in ``OK``)
    says. Anything unexpected counts as having run the first command only: the cautious way."""
    ran = sum(1 for line in lines if line.startswith(_PROBE_ANSWER))
    if ran == 0 and not ok:
        return Concatenation.REFUSED
    if ran >= 2 and ok:
        return Concatenation.RUNS_ALL
    return Concatenation.FIRST_ONLY
