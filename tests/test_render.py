"""sfnlab.render: drawings compared as DOT text (no binary needed), one real SVG render, the
data-flow stages, the timeline, the history table and ``sfnlab render``."""
from __future__ import annotations

import copy
import importlib.util
import json
import re

import pytest

import sfnlab
from sfnlab import cli, render
from sfnlab.render import labels, model
from sfnlab.render.style import STYLE

T0 = 1_700_000_000.0

ORDER = {
    "Comment": "E-Commerce Order Processing Workflow", "StartAt": "ValidateOrder",
    "States": {
        "ValidateOrder": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123:function:ValidateOrder",
                          "Next": "CheckInventory",
                          "Catch": [{"ErrorEquals": ["ValidationError"], "ResultPath": "$.error",
                                     "Next": "SendFailureNotification"}]},
        "CheckInventory": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                           "Parameters": {"TableName": "Inventory", "Key": {"productId": {"S.$": "$.productId"}}},
                           "ResultPath": "$.inventory", "Next": "IsInStock"},
        "IsInStock": {"Type": "Choice", "Choices": [{"Variable": "$.inventory.Item.quantity.N",
                                                     "NumericGreaterThan": 0, "Next": "ProcessPayment"}],
                      "Default": "NotifyOutOfStock"},
        "ProcessPayment": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123:function:ProcessPayment",
                           "Retry": [{"ErrorEquals": ["PaymentGatewayTimeout"], "IntervalSeconds": 2,
                                      "MaxAttempts": 3, "BackoffRate": 2.0}],
                           "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error",
                                      "Next": "HandlePaymentError"}],
                           "Next": "FulfillOrder"},
        "FulfillOrder": {"Type": "Parallel", "Next": "OrderComplete", "Branches": [
            {"StartAt": "UpdateInventory", "States": {"UpdateInventory": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123:function:UpdateInventory", "End": True}}},
            {"StartAt": "SendConfirmationEmail", "States": {"SendConfirmationEmail": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123:OrderConfirmations",
                               "Message.$": "States.Format('Order {} confirmed', $.orderId)"}, "End": True}}},
            {"StartAt": "CreateShipment", "States": {"CreateShipment": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123:function:CreateShipment", "End": True}}}]},
        "OrderComplete": {"Type": "Succeed"},
        "NotifyOutOfStock": {"Type": "Fail", "Error": "OutOfStock", "Cause": "Product not available"},
        "HandlePaymentError": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "Payment was declined"},
        "SendFailureNotification": {"Type": "Fail", "Error": "ValidationFailed", "Cause": "Order validation failed"},
    },
}


class PaymentGatewayTimeout(Exception):
    pass


class PaymentDeclined(Exception):
    pass


def runnable_order(payment: str) -> sfnlab.StateMachine:
    """The order machine with every Task a Python Lambda; ``payment`` picks ProcessPayment's behaviour."""
    definition = copy.deepcopy(ORDER)
    definition["States"]["CheckInventory"] = {"Type": "Task", "Resource": "CheckInventory",
                                              "ResultPath": "$.inventory", "Next": "IsInStock"}
    email = definition["States"]["FulfillOrder"]["Branches"][1]["States"]["SendConfirmationEmail"]
    email["Resource"] = "SendConfirmationEmail"
    del email["Parameters"]
    calls = []

    def process_payment(event, context):
        calls.append(1)
        if payment == "flaky" and len(calls) < 3 or payment == "down":
            raise PaymentGatewayTimeout("gateway did not answer")
        if payment == "declined":
            raise PaymentDeclined("card declined")
        return {"paid": True}

    functions = {"ValidateOrder": lambda e, c: e, "CheckInventory": lambda e, c: {"Item": {"quantity": {"N": 5}}},
                 "ProcessPayment": process_payment, "UpdateInventory": lambda e, c: 1,
                 "SendConfirmationEmail": lambda e, c: 2, "CreateShipment": lambda e, c: 3}
    return sfnlab.StateMachine(definition, functions=functions, start_time=T0)


MAP_IN_PARALLEL = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"items": [1, 2, 3, 4, 5]}, "Next": "Both"},
        "Both": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Items", "States": {"Items": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": True,
                "ItemProcessor": {"StartAt": "Big", "States": {
                    "Big": {"Type": "Choice", "Default": "Quick",
                            "Choices": [{"Variable": "$", "NumericGreaterThanEquals": 3, "Next": "Slow"}]},
                    "Slow": {"Type": "Wait", "Seconds": 5, "End": True},
                    "Quick": {"Type": "Pass", "End": True}}}}}},
            {"StartAt": "Export", "States": {"Export": {
                "Type": "Map", "End": True, "ItemsPath": "$.items",
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                  "StartAt": "Write", "States": {"Write": {"Type": "Pass", "End": True}}}}}}]},
    },
}


def node_line(source: str, node_id: str) -> str:
    match = re.search(rf"^\s*{re.escape(node_id)} \[(.*)\]$", source, re.M)
    assert match, f"no node {node_id} in\n{source}"
    return match.group(1)


def edge_line(source: str, tail: str, head: str) -> str:
    match = re.search(rf"^\s*{re.escape(tail)} -> {re.escape(head)}(?: \[(.*)\])?$", source, re.M)
    assert match, f"no edge {tail} -> {head}"
    return match.group(1) or ""


# -- labels ------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, text", [
    ({"Variable": "$.total", "NumericGreaterThan": 100}, "$.total > 100"),
    ({"Variable": "$.name", "StringEquals": "x"}, '$.name == "x"'),
    ({"Variable": "$.a", "IsPresent": True}, "$.a is present"),
    ({"Variable": "$.a", "IsPresent": False}, "$.a is not present"),
    ({"Variable": "$.a", "IsNull": True}, "$.a is null"),
    ({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}, "$.a <= $.b"),
    ({"Variable": "$.ok", "BooleanEquals": False}, "$.ok == false"),
    ({"Variable": "$.n", "StringMatches": "log-*.txt"}, '$.n matches "log-*.txt"'),
    ({"Variable": "$.t", "TimestampLessThan": "2024-01-01T00:00:00Z"}, '$.t < "2024-01-01T00:00:00Z"'),
    ({"Not": {"Variable": "$.a", "NumericEquals": 1}}, "not ($.a == 1)"),
    ({"And": [{"Variable": "$.a", "NumericGreaterThan": 1}, {"Variable": "$.b", "IsString": True}]},
     "$.a > 1 and $.b is a string"),
    ({"Or": [{"And": [{"Variable": "$.a", "IsNull": False}, {"Variable": "$.b", "IsNull": False}]},
             {"Variable": "$.c", "IsPresent": True}]}, "($.a is not null and $.b is not null) or $.c is present"),
    ({"Condition": "{% $states.input.total > 100 %}"}, "$states.input.total > 100"),
])
def test_choice_rule_text(rule, text):
    assert labels.rule_text(rule) == text


def test_retry_and_resource_text():
    machine = sfnlab.load(ORDER)
    retrier = machine.state("ProcessPayment").retry[0]
    assert labels.retry_text(retrier) == "retry ×3, 2s ×2: PaymentGatewayTimeout"
    assert labels.resource_text("arn:aws:lambda:us-east-1:123:function:ValidateOrder") == "λ ValidateOrder"
    assert labels.resource_text("arn:aws:states:::dynamodb:getItem") == "dynamodb:getItem"
    assert labels.cause_text('{"errorMessage": "boom", "errorType": "E"}') == "boom"
    assert labels.wrap("a " * 100, 10, max_lines=2)[-1].endswith("…")


# -- the definition drawing --------------------------------------------------------------------

def test_every_state_type_has_its_own_shape_and_colour():
    looks = {t: (STYLE["node"][t]["shape"], STYLE["node"][t]["fillcolor"])
             for t in ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")}
    assert len(set(looks.values())) == len(looks)


def test_order_machine_drawing():
    source = render.draw(sfnlab.StateMachine(ORDER)).source
    assert "E-Commerce Order Processing Workflow" in source
    assert "label=Start" in node_line(source, "__start__")
    assert "label=End" in node_line(source, "__end__")
    assert "shape=diamond" in node_line(source, "IsInStock")
    assert "shape=octagon" in node_line(source, "NotifyOutOfStock")
    assert "λ ValidateOrder" in node_line(source, "ValidateOrder")
    assert "retry ×3, 2s ×2" in node_line(source, "ProcessPayment")
    assert "$.inventory.Item.quantity.N &gt; 0" in edge_line(source, "IsInStock", "ProcessPayment")
    default = edge_line(source, "IsInStock", "NotifyOutOfStock")
    assert "Default" in default and "style=bold" in default
    catch = edge_line(source, "ProcessPayment", "HandlePaymentError")
    assert "style=dashed" in catch and "catch PaymentDeclined" in catch
    assert "catch ValidationError" in edge_line(source, "ValidateOrder", "SendFailureNotification")
    # Parallel: a cluster with one sub-cluster per branch, fan-out from the state, join to Next
    assert "subgraph cluster_FulfillOrder {" in source
    assert all(f"subgraph cluster_FulfillOrder__{i} {{" in source for i in range(3))
    assert "Branch 3" in source
    edge_line(source, "FulfillOrder", "CreateShipment")
    edge_line(source, "CreateShipment", "FulfillOrder__join")
    edge_line(source, "FulfillOrder__join", "OrderComplete")
    edge_line(source, "OrderComplete", "__end__")


def test_map_clusters_and_distributed_mark():
    built = render.diagram(MAP_IN_PARALLEL)
    kinds = {c.id: (c.kind, c.distributed) for c in built.walk_clusters()}
    assert kinds["cluster_Items"] == ("Map", False)
    assert kinds["cluster_Export"] == ("Map", True)
    assert kinds["cluster_Items__0"] == ("processor", False)
    source = render.draw(MAP_IN_PARALLEL).source
    assert "Distributed Map" in source
    assert "max 2 at once" in node_line(source, "Items")
    # the Map sits inside the Parallel's branch cluster
    assert source.index("subgraph cluster_Both__0") < source.index("subgraph cluster_Items {")


def test_intermediate_graph_edge_keys():
    built = model.build(sfnlab.load(ORDER))
    assert built.edge(("IsInStock", "choice", 0)).head == "ProcessPayment"
    assert built.edge(("IsInStock", "default")).kind == "default_choice"
    assert built.edge(("ProcessPayment", "catch", 0)).label == "catch PaymentDeclined"
    assert built.edge(("FulfillOrder", "next")).tail == "FulfillOrder__join"


# -- the execution overlay ---------------------------------------------------------------------

def fill(line: str) -> str:
    return re.search(r'fillcolor="?([^" ]+)', line).group(1)


def test_overlay_of_a_retried_success():
    execution = runnable_order("flaky").run({"total": 5})
    assert execution.status == "SUCCEEDED"
    source = render.draw(execution).source
    assert fill(node_line(source, "ValidateOrder")) == STYLE["node"]["succeeded"]["fillcolor"]
    payment = node_line(source, "ProcessPayment")
    assert "retried ×2" in payment and STYLE["node"]["retried"]["color"] in payment
    assert fill(node_line(source, "NotifyOutOfStock")) == STYLE["node"]["unvisited"]["fillcolor"]
    # edges numbered in the order taken: Start=1 ... the three branches, the join, End
    assert ">1<" in edge_line(source, "__start__", "ValidateOrder")
    assert ">4<" in edge_line(source, "IsInStock", "ProcessPayment")
    assert ">13<" in edge_line(source, "OrderComplete", "__end__")
    assert STYLE["edge"]["untaken"]["color"] in edge_line(source, "IsInStock", "NotifyOutOfStock")
    assert "3 branches: 3 succeeded" in source
    assert "SUCCEEDED after 6s" in source


def test_overlay_of_a_failure_points_at_the_state():
    execution = runnable_order("down").run({})
    source = render.draw(execution).source
    assert fill(node_line(source, "ProcessPayment")) == STYLE["node"]["failed"]["fillcolor"]
    note = node_line(source, "__failure__")
    assert "Error: PaymentGatewayTimeout" in note and "Cause: gateway did not answer" in note
    edge_line(source, "ProcessPayment", "__failure__")


def test_overlay_of_a_caught_error():
    execution = runnable_order("declined").run({})
    source = render.draw(execution).source
    payment = node_line(source, "ProcessPayment")
    assert fill(payment) == STYLE["node"]["caught"]["fillcolor"] and "caught PaymentDeclined" in payment
    catch = edge_line(source, "ProcessPayment", "HandlePaymentError")
    assert STYLE["edge"]["taken_catch"]["color"] in catch and ">5<" in catch
    assert "Error: PaymentFailed" in node_line(source, "__failure__")
    edge_line(source, "HandlePaymentError", "__failure__")


def test_overlay_counts_map_iterations_and_branches():
    execution = sfnlab.StateMachine(MAP_IN_PARALLEL, start_time=T0).run({})
    source = render.draw(execution).source
    assert "5 iterations: 5 succeeded" in source
    assert "2 branches: 2 succeeded" in source
    assert "×3: 3 succeeded" in node_line(source, "Slow")
    # inside a Map the edges are counted, not numbered
    assert ">×3<" in edge_line(source, "Big", "Slow")


def test_overlay_from_hand_made_records():
    records = [
        {"name": "ValidateOrder", "type": "Task", "scope": (), "entered_event": 2, "exited_event": 6,
         "status": "SUCCEEDED", "next": "CheckInventory", "attempts": []},
        {"name": "CheckInventory", "type": "Task", "scope": (), "entered_event": 7, "exited_event": None,
         "status": "RUNNING", "next": None, "attempts": []},
    ]
    source = render.draw(ORDER, records=records).source
    assert fill(node_line(source, "CheckInventory")) == STYLE["node"]["running"]["fillcolor"]
    assert ">2<" in edge_line(source, "ValidateOrder", "CheckInventory")


# -- rendering through graphviz-pure -----------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("graphviz") is None or render.bundled_dot() is None,
                    reason="graphviz-pure is not installed")
def test_svg_and_png_through_graphviz_pure(tmp_path, monkeypatch):
    import graphviz.backend.dot_command as dot_command

    monkeypatch.setattr(dot_command, "DOT_BINARY", render.bundled_dot())
    execution = runnable_order("declined").run({})
    graph = render.draw(execution)
    svg = graph._repr_mimebundle_()["image/svg+xml"]
    assert svg.count('<g id="clust') == 4 and "ProcessPayment" in svg
    assert render.save(graph, tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")
    assert render.save(graph, tmp_path / "x.dot").read_text() == graph.source


def test_configure_dot_prefers_the_environment(monkeypatch, tmp_path):
    import graphviz.backend.dot_command as dot_command

    monkeypatch.setattr(dot_command, "DOT_BINARY", dot_command.DOT_BINARY)
    monkeypatch.setenv("SFNLAB_DOT", "/opt/my/dot")
    assert str(render.configure_dot()) == "/opt/my/dot"


# -- data flow -----------------------------------------------------------------------------------

def test_dataflow_stages_use_inspection_data_names():
    execution = sfnlab.StateMachine({"StartAt": "P", "States": {"P": {
        "Type": "Pass", "InputPath": "$.a", "Parameters": {"v.$": "$.b"}, "ResultPath": "$.r",
        "OutputPath": "$.r", "End": True}}}).run({"a": {"b": 7}})
    flow = render.dataflow(execution, "P")
    assert [s.name for s in flow.stages] == ["input", "afterInputPath", "afterParameters", "result",
                                             "afterResultPath", "output"]
    assert flow["afterInputPath"] == {"b": 7} and flow["output"] == {"v": 7}
    html = flow._repr_html_()
    assert "afterParameters" in html and "InputPath" in html and "$.a" in html
    source = flow.diagram().source
    assert "rankdir=LR" in source and "s0 -> s1" in source


def test_dataflow_folds_long_values_and_counts_visits():
    execution = sfnlab.StateMachine(MAP_IN_PARALLEL, start_time=T0).run({})
    flow = render.dataflow(execution, "Quick", visit=1)
    assert flow.visits == 2 and "visit 2 of 2" in flow._repr_html_()
    big = sfnlab.StateMachine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}).run(
        {"k": list(range(200))})
    assert "<details>" in render.dataflow(big, "P")._repr_html_()
    with pytest.raises(KeyError):
        render.dataflow(big, "Nope")


# -- timeline and history ------------------------------------------------------------------------

def test_timeline_shows_backoff_and_map_slots():
    chart = render.timeline(runnable_order("flaky").run({}))
    payment = next(r for r in chart.rows if r.label == "ProcessPayment")
    backoffs = sorted((s.start, s.end) for s in payment.segments if s.kind == "backoff")
    assert backoffs == [(0.0, 2.0), (2.0, 6.0)]
    assert "back-off 4s" in chart.svg and chart.svg.startswith("<svg")
    lanes = render.timeline(sfnlab.StateMachine(MAP_IN_PARALLEL, start_time=T0).run({})).rows
    assert [r.label for r in lanes if r.label.startswith("Items slot")] == ["Items slot 1", "Items slot 2"]


def test_history_table():
    execution = runnable_order("declined").run({})
    table = render.history_table(execution)
    lambda_failed = next(r for r in table.rows if r.type == "LambdaFunctionFailed")
    assert lambda_failed.state == "ProcessPayment" and lambda_failed.details["error"] == "PaymentDeclined"
    assert "<table" in table._repr_html_() and "TaskStateEntered" in str(table)


# -- command line --------------------------------------------------------------------------------

def test_cli_render(tmp_path, capsys):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(ORDER))
    assert cli.main(["render", str(path)]) == 0
    assert capsys.readouterr().out.startswith("digraph state_machine {")
    out = tmp_path / "m.dot"
    assert cli.main(["render", str(path), "--input", "{}", "-o", str(out)]) == 0
    assert "__failure__" in out.read_text()  # CheckInventory (dynamodb) cannot run here: the run fails
    assert cli.main(["render", str(path), "-o", str(tmp_path / "m.pdf")]) == 2


# ----------------------------------------------------------------------------------------------
# The stepper's stages against AWS: TestState cases recorded from real AWS, run as one-state
# executions (not through TestState), must show the same inspection values.

_CORPUS = __import__("pathlib").Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "cases"


def _teststate_cases():
    import json as _json

    if not _CORPUS.exists():
        return []
    cases = []
    for path in sorted(_CORPUS.glob("test_state*.json")):
        case = _json.loads(path.read_text())
        params = case.get("test_state_params") or {}
        if (case["expected"]["status"] != "SUCCEEDED" or "inspectionData" not in case["expected"]
                or set(params) - {"inspectionLevel"} or "StartAt" in case["definition"]
                or case["definition"].get("Type") in ("Task", "Map", "Parallel", "Choice")):
            continue
        cases.append(pytest.param(case, id=case["id"][-40:]))
    return cases


@pytest.mark.skipif(not _CORPUS.exists(), reason="../shared/conformance is not beside this checkout")
@pytest.mark.parametrize("case", _teststate_cases())
def test_dataflow_stages_equal_aws_teststate_inspection_data(case):
    import json as _json

    state = dict(case["definition"])
    # One-state machine: the state's own transitions go nowhere, so end it where it stands.
    for key in ("Next", "End", "Default", "Choices"):
        state.pop(key, None)
    if state["Type"] in ("Pass", "Wait", "Task"):
        state["End"] = True
    sm = sfnlab.StateMachine({"StartAt": "S", "States": {"S": state}})
    execution = sm.run(case["input"] if case["input"] is not None else {})
    flow = render.dataflow(execution, "S")
    for stage, want in case["expected"]["inspectionData"].items():
        if stage in ("output", "result") or stage not in flow.inspection:
            continue
        want = _json.loads(want) if isinstance(want, str) else want
        assert flow.inspection[stage] == want, stage
