"""Simulated observers: a roster and an election day of SMS, for the demo and the benchmarks.

Reports are valid against the deployment's forms (drawn again until their checks hold; the
results form of the example deployment gets figures that add up), then some are typed the way
tired people on basic phones type: lower case, no spaces, a Cyrillic keyboard, ``O`` for zero,
a comment; some are broken (a value out of range, an unknown question, a wrong form code), and
some are sent twice. A few come from numbers nobody registered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from parser import Deployment, Form, parse_message

__all__ = ["Arrival", "ElectionDay", "generate_roster"]

REGIONS = {
    "Bishkek": ["Lenin", "Oktyabr", "Pervomay", "Sverdlov"],
    "Osh city": ["Osh"],
    "Chui": ["Sokuluk", "Alamudun", "Ysyk-Ata", "Kemin"],
    "Osh": ["Kara-Suu", "Nookat", "Uzgen", "Aravan"],
    "Jalal-Abad": ["Suzak", "Bazar-Korgon", "Nooken", "Aksy"],
    "Issyk-Kul": ["Ak-Suu", "Tup", "Jeti-Oguz", "Ton"],
    "Naryn": ["At-Bashy", "Kochkor", "Jumgal"],
    "Talas": ["Talas", "Bakay-Ata", "Manas"],
    "Batken": ["Batken", "Kadamjay", "Leilek"],
}
LANGUAGES = ("ky", "ky", "ru", "ru", "en")
_CYRILLIC = str.maketrans("ABCEHKMOPTXaceopx", "АВСЕНКМОРТХасеорх")
_STRENGTHS = (1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1)  # the seven candidates' relative support
_COMMENTS = ("очередь 40 человек", "всё спокойно", "баары тынч", "queue outside",
             "автобус с избирателями у школы", "наблюдателя не пускают")  # fmt: skip


def generate_roster(
    stations: int, observers: int, rng: random.Random, *, unsampled: int = 0
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Station rows and observer rows (two observers per station when numbers allow). The
    first ``stations`` are the sample; ``unsampled`` more complete the frame (the country)."""
    station_rows = []
    regions = list(REGIONS)
    for number in range(1, stations + unsampled + 1):
        region = regions[number % len(regions)]
        station_rows.append({
            "code": f"S{number:04d}", "name": f"School No. {number}", "region": region,
            "district": rng.choice(REGIONS[region]), "registered_voters": rng.randint(600, 2500),
            "in_sample": number <= stations,
        })  # fmt: skip
    codes = rng.sample(range(1000, 99999), observers)
    observer_rows = [
        {"code": str(code), "name": f"Observer {index + 1}",
         "phones": [f"+99655{rng.randint(0, 9_999_999):07d}"],
         "station_code": station_rows[index % stations]["code"], "language": rng.choice(LANGUAGES)}
        for index, code in enumerate(codes)
    ]  # fmt: skip
    return station_rows, observer_rows


@dataclass(frozen=True, slots=True)
class Arrival:
    """An SMS to deliver ``at`` (a fraction of the day, 0 to 1) from ``sender``."""

    at: float
    sender: str
    text: str


class ElectionDay:
    """Draws the SMS of a compressed election day for a roster."""

    def __init__(self, deployment: Deployment, rng: random.Random) -> None:
        self.deployment = deployment
        self.rng = rng

    def report(self, form: Form, observer: str, station: str | None = None) -> str:
        """A valid SMS of ``form`` from ``observer``: answers drawn until the checks hold.
        Observers of one ``station`` send the same results figures, as a count has one."""
        for _ in range(50):
            answers = self._answers(form, station)
            text = " ".join([form.code, observer, *(tag + value for tag, value in answers.items())])
            if parse_message(text, self.deployment).ok:
                return text
        return f"{form.code} {observer}"

    def _answers(self, form: Form, station: str | None) -> dict[str, str]:
        answers: dict[str, str] = {}
        for question in form.questions:
            if not question.required and self.rng.random() < 0.3:
                continue
            if question.type == "integer":
                value = self.rng.randint(question.lowest, min(question.highest, 40))
                answers[question.tag] = str(value)
            elif question.type == "choice":
                answers[question.tag] = str(self.rng.choice(list(question.options)))
            else:
                chosen = self.rng.sample(sorted(question.options), self.rng.randint(1, 2))
                answers[question.tag] = "".join(map(str, chosen))
        if form.tags >= set("ABCDEFGHJKMNPQ"):  # the example's results form: figures add up
            answers.update(self.results_figures(station))
        return answers

    def results_figures(self, station: str | None = None) -> dict[str, str]:
        """Results-protocol figures that satisfy the example deployment's RS checks; the
        same for every call with one ``station`` (candidates of unequal strength)."""
        rng = self.rng if station is None else random.Random(f"results {station}")  # noqa: S311
        votes = {tag: round(rng.randint(0, 400) * weight)
                 for tag, weight in zip("HJKMNPQ", _STRENGTHS, strict=True)}  # fmt: skip
        valid = sum(votes.values())
        invalid = rng.randint(0, 30)
        issued = valid + invalid + rng.randint(0, 5)
        unused = rng.randint(0, 900)
        figures = {
            "A": issued + rng.randint(0, 900),
            "B": issued + unused,
            "C": issued,
            "D": unused,
            "E": valid + invalid,
            "F": invalid,
            "G": valid,
            **votes,
        }
        return {tag: str(value) for tag, value in figures.items()}

    def messy(self, text: str) -> str:
        """``text`` as a hurried phone types it."""
        style = self.rng.randrange(5)
        if style == 0:
            text = text.lower().replace(" ", "")
        elif style == 1:
            text = text.translate(_CYRILLIC)
        elif style == 2:
            text = text.replace(" ", self.rng.choice([", ", "-", "; ", "."]))
        elif style == 3:
            text = text.replace("0 ", "O ")
        return text + (f" @ {self.rng.choice(_COMMENTS)}" if self.rng.random() < 0.4 else "")

    def broken(self, text: str) -> str:
        """``text`` with a typical mistake."""
        words = text.split()
        mistakes = [
            f"{text} ZZ5",
            f"{text} B99999",
            "XX" + text[2:],
            " ".join(words[:1] + words[2:]),
            f"{text} B 1 200",
        ]
        return self.rng.choice(mistakes)

    def arrivals(self, observers: list[dict[str, object]]) -> list[Arrival]:
        """Every SMS of the day, in time order."""
        phases = [("OP", 0.00, 0.15), ("VP", 0.20, 0.55), ("CL", 0.62, 0.72), ("RS", 0.75, 0.95)]
        out: list[Arrival] = []
        for observer in observers:
            phone, code = str(observer["phones"][0]), str(observer["code"])  # type: ignore[index]
            station = str(observer.get("station_code") or "") or None
            for form_code, start, end in phases:
                form = self.deployment.form(form_code)
                if form is not None and self.rng.random() < 0.95:
                    out += self._sends(form, code, phone, self.rng.uniform(start, end), station)
            incident = self.deployment.form("IN")
            if incident is not None and self.rng.random() < 0.12:
                out += self._sends(incident, code, phone, self.rng.uniform(0.1, 0.9))
        out += [
            Arrival(
                self.rng.random(),
                f"+99670{self.rng.randint(0, 9_999_999):07d}",
                f"OP {self.rng.randint(100, 999)} A1",
            )
            for _ in range(len(observers) // 50)
        ]
        return sorted(out, key=lambda arrival: arrival.at)

    def _sends(
        self, form: Form, code: str, phone: str, at: float, station: str | None = None
    ) -> list[Arrival]:
        text = self.report(form, code, station)
        roll = self.rng.random()
        if roll < 0.06:  # a mistake, then the corrected report a little later
            return [Arrival(at, phone, self.broken(text)), Arrival(min(at + 0.02, 1), phone, text)]
        if roll < 0.09:  # sent twice
            return [Arrival(at, phone, text), Arrival(min(at + 0.01, 1), phone, text)]
        return [Arrival(at, phone, self.messy(text) if roll < 0.30 else text)]
