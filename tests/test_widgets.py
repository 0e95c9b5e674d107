"""sfnlab.widgets.Stepper driven without a browser: click the buttons, set the dropdown."""
from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

import sfnlab
from sfnlab.widgets import Stepper

MACHINE = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"n": 1}, "Next": "B"},
    "B": {"Type": "Pass", "InputPath": "$.n", "Next": "C"},
    "C": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}


@pytest.fixture
def stepper(monkeypatch):
    import sfnlab.widgets as w

    monkeypatch.setattr(w, "_svg", lambda graph: graph.source)  # no dot needed
    return Stepper(sfnlab.StateMachine(MACHINE).run({}))


def test_buttons_step_through_the_visits(stepper):
    assert stepper.current["name"] == "A" and stepper.previous_button.disabled
    stepper.next_button.click()
    assert stepper.index == 1 and stepper.dropdown.value == 1
    assert "afterInputPath" in stepper.flow_view.value
    stepper.previous_button.click()
    assert stepper.current["name"] == "A"


def test_dropdown_jumps_and_the_graph_highlights_the_state(stepper):
    stepper.dropdown.value = 2
    assert stepper.current["name"] == "C" and stepper.next_button.disabled
    assert "current step" in stepper.graph_view.value and "__failure__" in stepper.graph_view.value
    stepper.next()  # clamped at the end
    assert stepper.index == 2
    stepper.go(1)
    assert "__failure__" not in stepper.graph_view.value  # not failed yet at visit 2
    assert [label for label, _ in stepper.dropdown.options][0] == "1. A (succeeded)"
