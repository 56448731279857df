"""The forms file's ``results:`` and ``strata:``: what the estimates read, and every mistake."""

from __future__ import annotations

import pytest

from parser import Deployment, FormsError, load_forms

RESULTS_FORM = """\
deployment: test
languages: [en]
forms:
  - code: rs
    kind: checklist
    name: Results
    questions:
      - {tag: a, type: integer, label: Party A}
      - {tag: b, type: integer, label: Party B}
      - {tag: f, type: integer, label: Invalid}
      - {tag: g, type: integer, label: Registered}
      - {tag: s, type: choice, label: Source, options: {1: Protocol, 2: Count}}
    results:
      votes: [a, b]
      invalid: f
      registered: g
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(FormsError) as caught:
        load_forms(text)
    return [str(problem) for problem in caught.value.problems]


def test_results_name_the_vote_invalid_and_registered_tags() -> None:
    form = load_forms(RESULTS_FORM).form("RS")
    assert form is not None
    assert form.results is not None
    assert form.results.votes == ["A", "B"]
    assert form.results.invalid == "F"
    assert form.results.registered == "G"
    assert form.results.tags == ("A", "B", "F", "G")


def test_invalid_and_registered_are_optional() -> None:
    text = RESULTS_FORM.replace("      invalid: f\n      registered: g\n", "")
    results = load_forms(text).forms[0].results
    assert results is not None
    assert (results.invalid, results.registered, results.tags) == (None, None, ("A", "B"))


def test_a_form_without_results_has_none(demo: Deployment) -> None:
    assert all(form.results is None for form in demo.forms)


def test_the_presidential_example_declares_its_results(presidential: Deployment) -> None:
    form = presidential.form("RS")
    assert form is not None
    assert form.results is not None
    assert form.results.tags == ("H", "J", "K", "M", "N", "P", "Q", "F", "A")


def test_a_results_tag_the_form_does_not_have_is_a_mistake() -> None:
    assert problems_of(RESULTS_FORM.replace("votes: [a, b]", "votes: [a, z]")) == [
        "forms[0].results.votes[1] (line 14): Z is not a question of form RS "
        "(its tags: A, B, F, G, S)"
    ]


def test_a_results_tag_must_be_an_integer_question() -> None:
    assert problems_of(RESULTS_FORM.replace("invalid: f", "invalid: s")) == [
        "forms[0].results.invalid (line 15): S is a choice question; results need integer questions"
    ]


def test_a_tag_listed_twice_in_results_is_a_mistake() -> None:
    text = RESULTS_FORM.replace("votes: [a, b]", "votes: [a, b, a]").replace(
        "registered: g", "registered: b"
    )
    assert problems_of(text) == [
        "forms[0].results.votes[2] (line 14): A is already listed as results.votes[0]",
        "forms[0].results.registered (line 16): B is already listed as results.votes[1]",
    ]


def test_results_need_at_least_one_vote_tag() -> None:
    assert problems_of(RESULTS_FORM.replace("votes: [a, b]", "votes: []")) == [
        "forms[0].results.votes (line 14): should not be empty"
    ]


def test_an_unknown_results_field_names_the_allowed_ones() -> None:
    assert problems_of(RESULTS_FORM.replace("invalid: f", "spoilt: f")) == [
        "forms[0].results.spoilt (line 15): unknown field; "
        "the fields here are: votes, invalid, registered"
    ]


def test_an_incident_form_has_no_results() -> None:
    assert problems_of(RESULTS_FORM.replace("kind: checklist", "kind: incident")) == [
        "forms[0].results (line 13): only a checklist form has results (one count per station)"
    ]


def test_strata_give_the_stations_in_each_stratum_of_the_country() -> None:
    deployment = load_forms(RESULTS_FORM + "strata: {Bishkek: 420, Osh: 310}\n")
    assert deployment.strata == {"Bishkek": 420, "Osh": 310}


def test_a_stratum_of_no_stations_is_a_mistake() -> None:
    assert problems_of(RESULTS_FORM + "strata: {Bishkek: 0}\n") == [
        "strata.Bishkek (line 17): should be the number of stations in Bishkek, 1 or more"
    ]


def test_declaring_nothing_new_keeps_the_content_hash_of_older_files(demo: Deployment) -> None:
    # The hash is stored with every loaded forms file: adding fields must not change old ones.
    assert demo.content_hash == load_forms(demo.model_dump_json()).content_hash
    with_results = load_forms(RESULTS_FORM)
    without = load_forms(RESULTS_FORM.split("    results:")[0])
    assert with_results.content_hash != without.content_hash
