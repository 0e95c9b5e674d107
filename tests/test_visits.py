"""A state visit reads like the dict it is documented as, while being a small slotted object."""
import json
import pickle
from collections.abc import Mapping

import pytest

import sfnlab
from sfnlab.visits import Visit

RETRYING = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
                   "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}


class Flaky(Exception):
    pass


def charge(event, context):
    raise Flaky("card declined")


@pytest.fixture(scope="module")
def execution():
    return sfnlab.StateMachine(RETRYING, functions={"charge": charge}).run({"amount": 3})


def test_records_are_visits_that_read_like_dicts(execution):
    first, last = execution.records
    assert isinstance(first, Visit) and isinstance(first, Mapping)
    assert first["name"] == "Charge" and first.get("type") == "Task"
    assert first["status"] == "CAUGHT" and first["caught_by"] == 0 and first["error"] == "Flaky"
    assert [a["retry_index"] for a in first["attempts"]] == [0, 0, None]
    assert first["inspection"]["input"] == {"amount": 3}
    assert last["status"] == "SUCCEEDED" and last["next"] is None and last["attempts"] == ()
    assert "children" not in first and first.get("children", "none") == "none"
    with pytest.raises(KeyError):
        first["children"]
    with pytest.raises(KeyError):
        first["no such key"]


def test_a_visit_equals_the_dict_of_its_items(execution):
    visit = execution.records[1]
    as_dict = dict(visit)
    assert list(as_dict) == list(visit) and len(visit) == len(as_dict) == 15
    assert visit == as_dict and as_dict == visit
    assert visit != {**as_dict, "status": "FAILED"}
    assert json.loads(json.dumps({k: v for k, v in as_dict.items() if k != "variables_at_entry"}, default=str))


def test_setting_keys(execution):
    visit = execution.records[1].copy()
    visit["children"] = {0: "a"}
    visit.update(status="ABORTED")
    assert visit["children"] == {0: "a"} and "children" in visit and len(visit) == 16
    assert visit["status"] == "ABORTED" and execution.records[1]["status"] == "SUCCEEDED"
    with pytest.raises(KeyError, match="has no 'colour'"):
        visit["colour"] = "red"


def test_copy_and_pickle_keep_every_key(execution):
    visit = execution.records[0].copy(scope=(("Map", "M", 3),))
    assert visit["scope"] == (("Map", "M", 3),) and execution.records[0]["scope"] == ()
    assert {k: v for k, v in visit.items() if k != "scope"} == \
        {k: v for k, v in execution.records[0].items() if k != "scope"}
    visit["map_run"] = "run"
    assert pickle.loads(pickle.dumps(visit)) == visit
    assert repr(visit).startswith("Visit({'name': 'Charge'")
