"""Self-checking exercises for the notebooks: run the learner's definition and say what is wrong.

A check never stops at a bare ``assert``. It validates the definition as AWS would (the
diagnostics keep AWS's codes and ``/States/...`` locations), compares the fields the exercise asks
for (``State 'Charge': Retry[0].BackoffRate is 1.5; the exercise asks for 2``), then *runs* the
machine on the exercise's inputs and compares what happened: the status, the error, the state it
ended in, the path, the output (naming the first place it differs), the virtual time it took::

    >>> from sfnlab.exercises import check
    >>> report = check("01.1", {"StartAt": "Hello", "States": {
    ...     "Hello": {"Type": "Pass", "Result": {"greeting": "Hello, world"}, "End": True}}})
    >>> report.passed
    False
    >>> print(report.problems[1])
    Run 1 (input {}): your machine ended in state 'Hello'; the exercise expects it to end in 'Done'

The exercises themselves are data (:data:`EXERCISES`, keyed ``"NN.k"``: notebook NN, exercise k)
so a notebook only says ``check("09.1", my_definition)``; ``tests/test_exercises.py`` proves
every check passes on the notebooks' reference solutions and fails helpfully on typical mistakes.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence, cast

from .errors import DefinitionError
from .machine import StateMachine

__all__ = ["START", "Case", "Field", "Exercise", "Report", "check", "EXERCISES", "lambdas", "capstone_lambdas",
           "capstone_resources"]

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
"""Where every exercise's virtual clock starts (and the notebooks' too), so runs repeat exactly."""

_MISSING = object()
PASS_MARK = "All checks passed"
"""The words a passing report starts with (tests look for them in the notebooks' outputs)."""


# ---------------------------------------------------------------------------------------------
# Lambda functions the exercises run with (Python handlers, as in the notebooks)


class PaymentGatewayTimeout(Exception):
    """A transient error: the payment gateway did not answer in time."""


class PaymentDeclined(Exception):
    """A permanent error: the card was declined."""


class ValidationError(Exception):
    """The order is not valid."""


def _validate_order(event, context):
    if not event.get("items"):
        raise ValidationError("the order has no items")
    return {"valid": True, "total": sum(i["price"] * i.get("qty", 1) for i in event["items"])}


def _flaky_payment_factory() -> Callable:
    calls: dict[Any, int] = {}

    def process_payment(event, context):
        """Declines card "declined"; times out on the first ``timeouts`` calls per orderId, then charges."""
        if event.get("card") == "declined":
            raise PaymentDeclined("card declined")
        calls[event.get("orderId")] = calls.get(event.get("orderId"), 0) + 1
        if calls[event.get("orderId")] <= event.get("timeouts", 0):
            raise PaymentGatewayTimeout("gateway did not answer")
        return {"charged": event.get("amount", 0), "status": "PAID"}

    return process_payment


def _price(event, context):
    return {"sku": event["sku"], "price": {"A1": 5, "B2": 12, "C3": 30}.get(event["sku"], 1)}


def _check_stock(event, context):
    return {"sku": event.get("sku"), "inStock": event.get("sku") != "C3"}


def lambdas() -> dict[str, Callable]:
    """Fresh copies of the Lambda functions the exercises call, by name.

    ``ProcessPayment`` counts its calls per ``orderId`` (so a Retry can be watched succeeding on
    the third try): build a new set for each state machine you run.
    """
    return {
        "ValidateOrder": _validate_order,
        "ProcessPayment": _flaky_payment_factory(),
        "GetPrice": _price,
        "CheckStock": _check_stock,
    }


def capstone_lambdas() -> dict[str, Callable]:
    """The Lambda functions of notebook 14's order workflow (the seed's e-commerce example).

    ValidateOrder raises ValidationError for an order without items; ProcessPayment raises
    PaymentDeclined for ``"card": "declined"`` and PaymentGatewayTimeout on its first ``timeouts``
    calls; each returns its input with a field added, as the workflow passes the order along.
    """
    pay = _flaky_payment_factory()

    def validate_order(event, context):
        _validate_order(event, context)
        return {**event, "valid": True}

    def process_payment(event, context):
        return {**event, "payment": pay(event, context)}

    return {
        "ValidateOrder": validate_order,
        "ProcessPayment": process_payment,
        "UpdateInventory": lambda event, context: {"updated": event.get("productId")},
        "CreateShipment": lambda event, context: {"shipmentId": f"ship-{event.get('orderId')}"},
    }


def capstone_resources() -> None:
    """The Inventory table (p-1: 5 in stock, p-0: none) and the OrderConfirmations topic."""
    from .services import aws_client

    ddb = aws_client("dynamodb")
    if "Inventory" not in ddb.list_tables()["TableNames"]:
        ddb.create_table(TableName="Inventory", KeySchema=[{"AttributeName": "productId", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "productId", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    for product, quantity in (("p-1", "5"), ("p-0", "0")):
        ddb.put_item(TableName="Inventory", Item={"productId": {"S": product}, "quantity": {"N": quantity}})
    aws_client("sns").create_topic(Name="OrderConfirmations")


# ---------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Field:
    """A field the exercise asks for: ``Field("Charge", "Retry[0].BackoffRate", 2)``.

    ``state`` may be None for a top-level field (``TimeoutSeconds``); ``expected`` may be a
    callable that returns an error text or None, for "at least"/"one of" style rules.
    """

    state: str | None
    path: str
    expected: Any
    why: str = ""


@dataclass(frozen=True)
class Case:
    """One run of the learner's machine and what must come of it (None: not checked)."""

    input: Any = None
    status: str | None = "SUCCEEDED"
    output: Any = _MISSING
    output_includes: Mapping[str, Any] | None = None
    error: str | None = None
    ends_in: str | None = None
    path: Sequence[str] | None = None
    visits: Mapping[str, int] | None = None
    attempts: Mapping[str, int] | None = None
    duration: float | None = None
    advance: float | None = None  # let virtual time pass after the run (timers fire), in seconds
    extra: Callable[[Any], str | None] | None = None  # a last look at the Execution
    setup: Callable[[], None] | None = None  # prepare local AWS resources (a queue, a table) first


@dataclass(frozen=True)
class Exercise:
    """An exercise: what the definition must contain and how it must behave."""

    key: str
    title: str
    cases: Sequence[Case] = ()
    fields: Sequence[Field] = ()
    uses: Sequence[str] = ()  # state types the machine must use
    rules: Sequence[Callable[[Mapping[str, Any]], str | None]] = ()
    functions: Callable[[], Mapping[str, Callable]] | None = None  # a factory: fresh functions per run
    type: str = "STANDARD"
    hint: str = ""


# ---------------------------------------------------------------------------------------------
# The report


@dataclass
class Report:
    """What a check found. ``passed`` is True when nothing is wrong; ``problems`` says what is."""

    exercise: Exercise
    problems: list[str] = field(default_factory=list)
    passed_checks: list[str] = field(default_factory=list)
    execution: Any = None  # the last execution run, to draw

    @property
    def passed(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = f"Exercise {self.exercise.key}: {self.exercise.title}\n"
        if self.passed:
            lines = [f"✔ {PASS_MARK} ({len(self.passed_checks)})."] + [f"  ✔ {p}" for p in self.passed_checks]
        else:
            lines = [f"✘ {len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}:"]
            lines += [f"  ✘ {p}" for p in self.problems]
            if self.exercise.hint:
                lines.append(f"  Hint: {self.exercise.hint}")
        return head + "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        title = html.escape(f"Exercise {self.exercise.key}: {self.exercise.title}")
        if self.passed:
            body = f"<b style='color:{colour}'>✔ {PASS_MARK} ({len(self.passed_checks)}).</b><ul>" + "".join(
                f"<li>{html.escape(p)}</li>" for p in self.passed_checks) + "</ul>"
        else:
            body = "<ul>" + "".join(f"<li style='color:{colour}'>✘ {html.escape(p)}</li>" for p in self.problems)
            body += "</ul>"
            if self.exercise.hint:
                body += f"<div><i>Hint:</i> {html.escape(self.exercise.hint)}</div>"
        return (f"<div style='border-left:6px solid {colour};padding:4px 10px;font-size:110%'>"
                f"<div><b>{title}</b></div>{body}</div>")

    def draw(self):
        """The last run drawn with its path (None when nothing ran)."""
        if self.execution is None:
            return None
        from .render import draw

        return draw(self.execution)


# ---------------------------------------------------------------------------------------------
# Checking


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find_state(definition: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """A state by name anywhere in the machine (Parallel branches and Map processors too)."""
    return next((state for found, state in all_states(definition) if found == name), None)


def all_states(definition: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Every (name, state) of a definition, nested ones included."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return out
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        out.append((name, state))
        children = list(state.get("Branches") or [])
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                children.append(state[key])
        for child in children:
            if isinstance(child, Mapping):
                out.extend(all_states(child))
    return out


_STEP = re.compile(r"\.?([^.\[\]]+(?:\.\$)?)|\[(\d+)\]")  # "Message.$" is one key


def _lookup(value: Any, path: str) -> Any:
    for m in _STEP.finditer(path):
        key, index = m.group(1), m.group(2)
        if key is not None:
            if not isinstance(value, Mapping) or key not in value:
                return _MISSING
            value = value[key]
        else:
            i = int(index)
            if not isinstance(value, list) or i >= len(value):
                return _MISSING
            value = value[i]
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def first_difference(actual: Any, expected: Any, where: str = "$") -> str | None:
    """Where two JSON values first differ, in words (None when they are the same)."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key in expected:
            if key not in actual:
                return f"{where}.{key} is missing (expected {_short(expected[key], 60)})"
            found = first_difference(actual[key], expected[key], f"{where}.{key}")
            if found:
                return found
        extra = [k for k in actual if k not in expected]
        if extra:
            return f"{where} has {'a field' if len(extra) == 1 else 'fields'} the exercise does not expect: " + \
                ", ".join(repr(k) for k in extra)
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(actual) != len(expected):
            return f"{where} has {len(actual)} items; expected {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            found = first_difference(a, e, f"{where}[{i}]")
            if found:
                return found
        return None
    if not _same(actual, expected):
        return f"{where} is {_short(actual, 60)}; expected {_short(expected, 60)}"
    return None


def _subset_difference(actual: Any, expected: Mapping[str, Any]) -> str | None:
    if not isinstance(actual, Mapping):
        return f"the output is {_short(actual, 60)}, not an object"
    for key, want in expected.items():
        if key not in actual:
            return f"$.{key} is missing from the output (expected {_short(want, 60)})"
        if isinstance(want, Mapping) and isinstance(actual[key], Mapping):
            inner = _subset_difference(actual[key], want)
            if inner:
                return inner.replace("$.", f"$.{key}.", 1)
        elif not _same(actual[key], want):
            return f"$.{key} is {_short(actual[key], 60)}; expected {_short(want, 60)}"
    return None


def _field_problem(definition: Mapping[str, Any], spec: Field) -> str | None:
    where = f"State '{spec.state}': " if spec.state else "The machine: "
    if spec.state is None:
        holder: Any = definition
    else:
        holder = _find_state(definition, spec.state)
        if holder is None:
            names = ", ".join(repr(n) for n, _ in all_states(definition)) or "none"
            return f"there is no state named '{spec.state}' (your states: {names})"
    value = _lookup(holder, spec.path)
    if callable(spec.expected):
        text = spec.expected(None if value is _MISSING else value)
        return f"{where}{text}" if text else None
    if spec.expected is _MISSING:
        if value is not _MISSING:
            return f"{where}{spec.path} is {_short(value, 60)}; the exercise asks you to remove it" + (
                f" ({spec.why})" if spec.why else "")
        return None
    if value is _MISSING:
        return f"{where}{spec.path} is missing; the exercise asks for {_short(spec.expected, 60)}" + (
            f" ({spec.why})" if spec.why else "")
    if not _same(value, spec.expected):
        return f"{where}{spec.path} is {_short(value, 60)}; the exercise asks for {_short(spec.expected, 60)}" + (
            f" ({spec.why})" if spec.why else "")
    return None


ABSENT = _MISSING
"""Use as ``Field(..., expected=ABSENT)``: the field must not be there."""


def _top_records(execution: Any) -> list[dict]:
    return [r for r in execution.records if not r.get("scope")]


def _lambda_message(cause: Any) -> str | None:
    """``errorType: errorMessage`` when ``cause`` is the JSON a Lambda runtime writes, else None."""
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else None
    except ValueError:
        return None
    if isinstance(parsed, Mapping) and "errorMessage" in parsed:
        return f"{parsed.get('errorType', 'Error')}: {parsed['errorMessage']}"
    return None


def _failed_task_input(execution: Any) -> Any:
    """What the failing Task sent to its function or service (after InputPath/Parameters), if known."""
    for record in reversed(execution.records):
        if record.get("type") == "Task" and record.get("error") == execution.error and record.get("inspection"):
            seen = record["inspection"]
            for key in ("afterParameters", "afterArguments", "afterInputPath", "input"):
                if key in seen:
                    return seen[key]
    return _MISSING


_STATE_PREFIX = re.compile(r"^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. ")


def _outcome(execution: Any) -> str:
    last = _top_records(execution)[-1]["name"] if _top_records(execution) else None
    if execution.status == "RUNNING":
        return "is still RUNNING" + (f", waiting in state '{last}'" if last else "") + \
            " (nothing ended the wait)"
    text = f"ended {execution.status}"
    if execution.error:
        text += f" with error {execution.error}"
        if execution.cause:
            message = _lambda_message(execution.cause)
            if message is not None:  # a function raised: its message, not the whole stack trace
                cause = message if len(message) <= 160 else message[:159] + "…"
            else:  # the state is named below: drop AWS's "An error occurred while executing the state ..."
                cause = _STATE_PREFIX.sub("", execution.cause)
                cause = cause if len(cause) <= 200 else cause[:199] + "…"
            text += f" ({cause})"
    text += f" in state '{last}'" if last else ""
    if execution.error and _lambda_message(execution.cause) is not None:
        received = _failed_task_input(execution)
        if received is not _MISSING:
            text += f"; the function received {_short(received, 90)}"
    return text


def _run_case(exercise: Exercise, definition: Any, functions: Mapping[str, Callable], number: int,
              case: Case, report: Report) -> None:
    label = f"Run {number} (input {_short(case.input if case.input is not None else {}, 70)})"
    if case.setup is not None:
        case.setup()
    machine = StateMachine(definition, functions=functions, start_time=START, seed=0, type=exercise.type,
                           name="Exercise")
    execution = machine.run(case.input if case.input is not None else {}, name=f"run-{number}")
    if case.advance:
        machine.advance(case.advance)
    report.execution = execution
    before = len(report.problems)
    top = _top_records(execution)
    last = top[-1]["name"] if top else None
    if case.ends_in is not None and last != case.ends_in:
        report.problems.append(f"{label}: your machine ended in state '{last}'; the exercise expects it to end "
                               f"in '{case.ends_in}'")
    status_wrong = case.status is not None and execution.status != case.status
    if status_wrong:
        wanted = cast(str, case.status) + (f" with error {case.error}" if case.error else "")
        report.problems.append(f"{label}: the execution {_outcome(execution)}; the exercise expects {wanted}")
    if case.error is not None and execution.error != case.error and not status_wrong:
        report.problems.append(f"{label}: the execution {_outcome(execution)}; the exercise expects error "
                               f"{case.error}")
    if case.path is not None:
        visited = [r["name"] for r in top]
        if visited != list(case.path):
            step = next((i for i, (a, b) in enumerate(zip(visited, case.path)) if a != b),
                        min(len(visited), len(case.path)))
            report.problems.append(f"{label}: your machine went {' → '.join(visited) or '(nowhere)'}; the exercise "
                                   f"expects {' → '.join(case.path)} (they part at step {step + 1})")
    for name, count in (case.visits or {}).items():
        got = sum(1 for r in execution.records if r["name"] == name)
        if got != count:
            report.problems.append(f"{label}: state '{name}' was entered {got} time{'s' * (got != 1)}; the exercise "
                                   f"expects {count}")
    for name, count in (case.attempts or {}).items():
        got = sum(len(r.get("attempts") or []) for r in execution.records if r["name"] == name)
        if got != count:
            report.problems.append(f"{label}: state '{name}' made {got} attempt{'s' * (got != 1)}; the exercise "
                                   f"expects {count}")
    if case.duration is not None and execution.stop_time is not None:
        took = execution.stop_time - execution.start_time
        if abs(took - case.duration) > 1e-6:
            report.problems.append(f"{label}: the execution took {took:g} s of virtual time; the exercise expects "
                                   f"{case.duration:g} s")
    if case.output is not _MISSING and execution.status == "SUCCEEDED":
        diff = first_difference(execution.output, case.output)
        if diff:
            report.problems.append(f"{label}: the output differs: {diff}. Your output: {_short(execution.output)}")
    if case.output_includes is not None and execution.status == "SUCCEEDED":
        diff = _subset_difference(execution.output, case.output_includes)
        if diff:
            report.problems.append(f"{label}: {diff}. Your output: {_short(execution.output)}")
    if case.extra is not None:
        text = case.extra(execution)
        if text:
            report.problems.append(f"{label}: {text}")
    if len(report.problems) == before:
        what = f"{execution.status}" + (f" with {execution.error}" if execution.error else "")
        report.passed_checks.append(f"{label}: {what}" + (f", ended in '{last}'" if last else ""))


def check(exercise: str | Exercise, definition: Any, *, functions: Mapping[str, Callable] | None = None) -> Report:
    """Check a learner's definition against an exercise; the report says what is right or wrong.

    Args:
        exercise: a key of :data:`EXERCISES` (``"09.1"``) or an :class:`Exercise`.
        definition: the learner's ASL (a dict or JSON text).
        functions: extra Lambda functions (added to the exercise's own).

    Returns:
        A :class:`Report` (it displays itself in Jupyter; ``.passed``, ``.problems``).
    """
    spec = EXERCISES[exercise] if isinstance(exercise, str) else exercise
    report = Report(spec)
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            report.problems.append(f"the definition is not valid JSON: {exc}")
            return report
    if not isinstance(definition, Mapping):
        report.problems.append(f"the definition must be a JSON object (a dict), not {type(definition).__name__}")
        return report
    from .machine import validate

    diagnostics = [d for d in validate(definition) if d.severity == "ERROR"]
    if diagnostics:
        for d in diagnostics:
            report.problems.append(f"AWS would refuse this definition: {d.code}: {d.message}"
                                   f" at {d.location if d.location else '(the whole machine)'}")
        return report
    report.passed_checks.append("the definition is valid")
    for spec_field in spec.fields:
        problem = _field_problem(definition, spec_field)
        if problem:
            report.problems.append(problem)
    used = {state.get("Type") for _, state in all_states(definition)}
    for state_type in spec.uses:
        if state_type not in used:
            report.problems.append(f"the exercise asks for a {state_type} state; your machine has none "
                                   f"(it uses {', '.join(sorted(str(u) for u in used))})")
    for problem in _literal_paths(definition):
        report.problems.append(problem)
    for rule in spec.rules:
        problem = rule(definition)
        if problem:
            report.problems.append(problem)
    if spec.fields or spec.uses or spec.rules:
        if not report.problems:
            report.passed_checks.append("the fields the exercise asks for are right")
    for number, case in enumerate(spec.cases, 1):
        merged = {**(spec.functions() if spec.functions else {}), **(functions or {})}
        try:
            _run_case(spec, definition, merged, number, case, report)
        except DefinitionError as exc:  # pragma: no cover - validate() above catches these first
            report.problems.append(f"AWS would refuse this definition: {exc}")
            break
    report.problems = list(dict.fromkeys(report.problems))  # say each thing once
    return report


# ---------------------------------------------------------------------------------------------
# The exercises (one block per notebook). Each statement is in the notebook; here is the check.


_PATH_LIKE = re.compile(r"^(\$\$?\.|\$\$?\[|States\.[A-Za-z0-9]+\()")
_TEMPLATE_FIELDS = ("Parameters", "ResultSelector", "ItemSelector", "Assign")


def _literal_paths(definition: Mapping[str, Any]) -> list[str]:
    """Keys without ``.$`` whose value looks like a path or an intrinsic: AWS sends the text as it is.

    Only JSONPath states: in JSONata, ``.$`` keys do not exist and ``{% %}`` marks expressions.
    """
    top_language = definition.get("QueryLanguage") or "JSONPath"
    found: list[str] = []

    def walk(value: Any, where: str, state: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                here = f"{where}.{key}"
                if (isinstance(key, str) and not key.endswith(".$") and isinstance(inner, str)
                        and _PATH_LIKE.match(inner)):
                    found.append(f"State '{state}': {here} is the literal text {_short(inner, 60)}: a key must end "
                                 f"in .$ (\"{key}.$\") for its value to be read as a path or an intrinsic")
                else:
                    walk(inner, here, state)
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, f"{where}[{i}]", state)

    for name, state in all_states(definition):
        if (state.get("QueryLanguage") or top_language) == "JSONata":
            continue
        for key in _TEMPLATE_FIELDS:
            if isinstance(state.get(key), (Mapping, list)):
                walk(state[key], key, name)
        reader = state.get("ItemReader")
        if isinstance(reader, Mapping) and isinstance(reader.get("Parameters"), Mapping):
            walk(reader["Parameters"], "ItemReader.Parameters", name)
    return found


def _no_lambda(definition: Mapping[str, Any]) -> str | None:
    for name, state in all_states(definition):
        resource = state.get("Resource", "") if state.get("Type") == "Task" else ""
        if isinstance(resource, str) and (":lambda:" in resource or ":function:" in resource
                                          or (resource and not resource.startswith("arn:"))):
            return f"State '{name}' calls a Lambda function ({resource}); the exercise asks for a direct " \
                   "service integration"
    return None


def _resource_is(state: str, *allowed: str) -> Field:
    def rule(value: Any) -> str | None:
        if value in allowed:
            return None
        return f"Resource is {_short(value, 80)}; the exercise asks for {' or '.join(allowed)}"

    return Field(state, "Resource", rule)


def _catch_all_last(state: str, next_state: str | None = None, result_path: str | None = None) -> Field:
    def rule(catchers: Any) -> str | None:
        if not catchers:
            return "has no Catch; the exercise asks for a catcher"
        names = [e for c in catchers for e in c.get("ErrorEquals", [])]
        if "States.ALL" not in names:
            return "Catch has no States.ALL catcher; the exercise asks for a catch-all"
        index, catch_all = next((i, c) for i, c in enumerate(catchers) if "States.ALL" in c.get("ErrorEquals", []))
        if next_state is not None and catch_all.get("Next") != next_state:
            return (f"Catch[{index}] (States.ALL) goes to {_short(catch_all.get('Next'), 40)}; the exercise asks "
                    f"for \"{next_state}\"")
        if result_path is not None and catch_all.get("ResultPath", "$") != result_path:
            found = catch_all.get("ResultPath", _MISSING)
            shown = "missing (so the error object replaces the order)" if found is _MISSING else \
                f"{_short(found, 40)}"
            return (f"Catch[{index}] (States.ALL): ResultPath is {shown}; the exercise asks for "
                    f"\"{result_path}\" to keep the order")
        return None

    return Field(state, "Catch", rule)


def _wait_time(expected: float) -> Callable[[Any], str | None]:
    def look(execution: Any) -> str | None:
        waits = [r for r in execution.records if r["type"] == "Wait"]
        if not waits:
            return "no Wait state ran"
        took = waits[0]["exited_time"] - waits[0]["entered_time"]
        if abs(took - expected) > 1e-6:
            return f"the Wait state waited {took:g} s of virtual time; the exercise expects {expected:g} s"
        return None

    return look


def _retry_delays(state: str, delays: Sequence[float]) -> Callable[[Any], str | None]:
    def look(execution: Any) -> str | None:
        got = [a["delay"] for r in execution.records if r["name"] == state for a in r.get("attempts") or []
               if a.get("delay") is not None]
        if [float(x) for x in got] != [float(x) for x in delays]:
            return (f"the back-off before each retry of '{state}' was {', '.join(f'{x:g}s' for x in got) or 'none'}; "
                    f"the exercise expects {', '.join(f'{x:g}s' for x in delays)}")
        return None

    return look


def _input_of(execution: Any, state: str) -> Any:
    """The input of the first visit of ``state`` (``_MISSING`` when it never ran)."""
    for record in execution.records:
        if record["name"] == state and record.get("inspection"):
            return record["inspection"].get("input", _MISSING)
    return _MISSING


def _order_kept_with_error(state: str, order_id: str) -> Callable[[Any], str | None]:
    def look(execution: Any) -> str | None:
        seen = _input_of(execution, state)
        if seen is _MISSING:
            return None  # "ended in" already says the execution never got there
        if isinstance(seen, Mapping) and seen.get("orderId") == order_id and "error" in seen:
            return None
        return (f"{state}'s input should be the order with the error under $.error (it was {_short(seen, 90)}): "
                "without a ResultPath, the catcher's error object replaces the state's input")

    return look


def _output_of(state: str, must_not_have: str) -> Callable[[Any], str | None]:
    def look(execution: Any) -> str | None:
        for record in execution.records:
            if record["name"] == state and record.get("inspection") and "output" in record["inspection"]:
                out = record["inspection"]["output"]
                if isinstance(out, Mapping) and must_not_have in out:
                    return (f"state '{state}' still passes {must_not_have!r} on in its output "
                            f"({_short(out, 80)}); the exercise asks it to drop it and keep it in a variable")
                return None
        return None

    return look


def _query_language(expected: str) -> Field:
    def rule(value: Any) -> str | None:
        if (value or "JSONPath") == expected:
            return None
        return f"QueryLanguage is {value or 'JSONPath (the default)'}; the exercise asks for {expected}"

    return Field(None, "QueryLanguage", rule)


APPROVAL_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/approvals"


def _approval_queue() -> Any:
    from .services import aws_client

    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return sqs, url
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _token_in_queue(execution: Any) -> str | None:
    from .services import aws_client

    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    if not messages:
        return "no message reached the approvals queue"
    try:
        body = json.loads(messages[0]["Body"])
    except ValueError:
        return f"the message body is not JSON: {messages[0]['Body'][:80]}"
    if not isinstance(body, Mapping) or not isinstance(body.get("taskToken"), str) or not body["taskToken"]:
        return f"the message has no taskToken for the approver to send back (it was {_short(body, 90)})"
    return None


DATA_BUCKET = "my-data-bucket"
ORDERS_TOPIC = "arn:aws:sns:us-east-1:123456789012:OrderConfirmations"


def _orders_table() -> None:
    from .services import aws_client

    ddb = aws_client("dynamodb")
    if "Orders" in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName="Orders")
    ddb.create_table(TableName="Orders", KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def _order_saved(execution: Any) -> str | None:
    from .services import aws_client

    item = aws_client("dynamodb").get_item(TableName="Orders", Key={"orderId": {"S": "o-11"}}).get("Item")
    if item is None:
        return "the Orders table has no item with orderId \"o-11\" (is the key attribute named orderId, type S?)"
    return None


def _orders_topic() -> None:
    from .services import aws_client

    aws_client("sns").create_topic(Name="OrderConfirmations")


def _order_files() -> None:
    """Two CSV files in S3: 3 clean rows, and 20 rows of which one has a bad amount."""
    from .services import aws_client

    s3 = aws_client("s3")
    s3.create_bucket(Bucket=DATA_BUCKET)
    s3.put_object(Bucket=DATA_BUCKET, Key="input/orders.csv", Body="orderId,amount\no-1,10\no-2,25\no-3,7\n")
    rows = [f"o-{n},{'oops' if n == 13 else n}" for n in range(1, 21)]
    s3.put_object(Bucket=DATA_BUCKET, Key="input/orders-with-errors.csv", Body="orderId,amount\n" + "\n".join(rows) + "\n")


def _rows(count: int) -> Callable[[Any], str | None]:
    def look(execution: Any) -> str | None:
        if execution.status == "SUCCEEDED" and (not isinstance(execution.output, list) or len(execution.output) != count):
            return f"the Map state's output should list {count} rows; it was {_short(execution.output, 90)}"
        return None

    return look


_ORDER = {"orderId": "o-1", "items": [{"sku": "A1", "price": 5, "qty": 2}, {"sku": "B2", "price": 12}]}

EXERCISES: dict[str, Exercise] = {}


def _add(*exercises: Exercise) -> None:
    for exercise in exercises:
        EXERCISES[exercise.key] = exercise


_add(
    # 01 first state machine
    Exercise("01.1", "Hello, then Done",
             uses=("Pass", "Succeed"),
             cases=[Case(input={}, path=["Hello", "Done"], ends_in="Done", output={"greeting": "Hello, world"})],
             hint="Hello is a Pass state with a Result and \"Next\": \"Done\"; Done is a Succeed state."),
    Exercise("01.2", "Fail with your own error",
             fields=[Field("Reject", "Error", "OrderRejected"), Field("Reject", "Cause", "Too expensive")],
             cases=[Case(input={}, status="FAILED", error="OrderRejected", ends_in="Reject")],
             hint="A Fail state takes Error and Cause, and neither Next nor End."),
    # 02 Task
    Exercise("02.1", "Call the GetPrice function",
             functions=lambdas,
             cases=[Case(input={"sku": "B2"}, output={"sku": "B2", "price": 12}),
                    Case(input={"sku": "A1"}, output={"sku": "A1", "price": 5})],
             hint="A Task whose Resource is the function's ARN (in sfnlab, its name also works) passes its "
                  "input as the event and outputs what the function returns."),
    Exercise("02.2", "Unwrap lambda:invoke's Payload",
             functions=lambdas,
             fields=[_resource_is("Price", "arn:aws:states:::lambda:invoke")],
             cases=[Case(input={"sku": "C3"}, output={"sku": "C3", "price": 30})],
             hint="lambda:invoke returns {ExecutedVersion, Payload, StatusCode, ...}; "
                  "ResultSelector {\"sku.$\": \"$.Payload.sku\", ...} or OutputPath \"$.Payload\" keeps the payload."),
    Exercise("02.3", "Time out a silent activity worker",
             fields=[Field("Work", "TimeoutSeconds", 300), Field("Work", "HeartbeatSeconds", 60),
                     _resource_is("Work", "arn:aws:states:us-east-1:123456789012:activity:Worker")],
             hint="TimeoutSeconds 300 bounds the whole task; HeartbeatSeconds 60 (smaller than TimeoutSeconds) "
                  "fails it sooner when a started worker stops sending SendTaskHeartbeat."),
    # 03 Choice
    Exercise("03.1", "Route by order total",
             uses=("Choice",),
             cases=[Case(input={"total": 250}, ends_in="Manual"), Case(input={"total": 100}, ends_in="Auto"),
                    Case(input={"total": 40}, ends_in="Auto"), Case(input={"total": 100.5}, ends_in="Manual")],
             hint="NumericGreaterThan 100 goes to Manual; make Auto the Default."),
    Exercise("03.2", "Never fail with States.NoChoiceMatched",
             cases=[Case(input={"country": "FR"}, ends_in="Europe"), Case(input={"country": "JP"}, ends_in="Other"),
                    Case(input={}, ends_in="Other")],
             hint="Add \"Default\": \"Other\" to the Choice state, and guard the rule with "
                  "{\"Variable\": \"$.country\", \"IsPresent\": true} inside an And: a missing field is "
                  "a States.Runtime error, not a non-match."),
    Exercise("03.3", "VIP or big orders (And / Or)",
             cases=[Case(input={"vip": True, "total": 10}, ends_in="Priority"),
                    Case(input={"vip": False, "total": 600}, ends_in="Priority"),
                    Case(input={"vip": False, "total": 20}, ends_in="Normal"),
                    Case(input={"total": 20}, ends_in="Normal")],
             hint="An Or of two rules; a rule on $.vip must cope with inputs that have no vip field "
                  "(IsPresent inside an And)."),
    # 04 Wait
    Exercise("04.1", "Wait for a delay taken from the input",
             uses=("Wait",),
             cases=[Case(input={"delay": 90}, extra=_wait_time(90)), Case(input={"delay": 5}, extra=_wait_time(5))],
             hint="SecondsPath reads the number of seconds from the state input."),
    Exercise("04.2", "Wait until a timestamp in the input",
             uses=("Wait",),
             cases=[Case(input={"sendAt": "2025-01-02T09:00:00Z"}, extra=_wait_time(33 * 3600)),
                    Case(input={"sendAt": "2024-12-31T00:00:00Z"}, extra=_wait_time(0))],
             hint="TimestampPath; a timestamp in the past does not wait at all."),
    # 05 Parallel
    Exercise("05.1", "Check stock and price at the same time",
             functions=lambdas, uses=("Parallel",),
             cases=[Case(input={"sku": "B2"}, output=[{"sku": "B2", "inStock": True}, {"sku": "B2", "price": 12}])],
             hint="Two branches, in this order: CheckStock, then GetPrice. A Parallel's result is the list "
                  "of branch outputs, in branch order."),
    Exercise("05.2", "Keep the input next to the branch results",
             functions=lambdas,
             cases=[Case(input={"sku": "A1"}, output={"sku": "A1", "checks": [{"sku": "A1", "inStock": True},
                                                                              {"sku": "A1", "price": 5}]})],
             hint="ResultPath \"$.checks\" on the Parallel state."),
    # 06 Map
    Exercise("06.1", "Price every item, two at a time",
             functions=lambdas, uses=("Map",),
             fields=[Field("PriceAll", "MaxConcurrency", 2)],
             cases=[Case(input={"items": [{"sku": "A1"}, {"sku": "B2"}, {"sku": "C3"}]},
                         output=[{"sku": "A1", "price": 5}, {"sku": "B2", "price": 12}, {"sku": "C3", "price": 30}])],
             hint="ItemsPath \"$.items\", MaxConcurrency 2, an ItemProcessor whose Task calls GetPrice."),
    Exercise("06.2", "Number the items with the context object",
             cases=[Case(input={"orderId": "o-9", "items": ["pen", "ink"]},
                         output=[{"orderId": "o-9", "line": 0, "item": "pen"},
                                 {"orderId": "o-9", "line": 1, "item": "ink"}])],
             hint="ItemSelector: \"line.$\": \"$$.Map.Item.Index\", \"item.$\": \"$$.Map.Item.Value\", "
                  "\"orderId.$\": \"$.orderId\" ($ is the Map state's input there)."),
    # 07 data flow
    Exercise("07.1", "Keep the input, add the result",
             functions=lambdas,
             cases=[Case(input={"order": {"sku": "B2", "qty": 3}, "customer": "ada"},
                         output={"order": {"sku": "B2", "qty": 3}, "customer": "ada", "pricing": {"price": 12}})],
             hint="InputPath \"$.order\" to send only the order, ResultSelector to keep price, "
                  "ResultPath \"$.pricing\" to keep the whole raw input."),
    Exercise("07.2", "Fix the broken Parameters",
             functions=lambdas,
             cases=[Case(input={"order": {"sku": "C3"}}, output={"sku": "C3", "price": 30})],
             hint="A key must end in .$ for its value to be read as a path; without it \"$.order.sku\" is "
                  "sent as a literal string."),
    Exercise("07.3", "Drop the result, keep the input",
             cases=[Case(input={"orderId": "o-1", "note": "gift"}, output={"orderId": "o-1", "note": "gift"})],
             hint="ResultPath null discards the result; the state's input becomes its output."),
    # 08 intrinsics
    Exercise("08.1", "Build a message with States.Format",
             cases=[Case(input={"orderId": "o-7", "total": 42},
                         output={"message": "Order o-7 costs 42 EUR"})],
             hint="\"message.$\": \"States.Format('Order {} costs {} EUR', $.orderId, $.total)\""),
    Exercise("08.2", "Split a list into batches and count them",
             cases=[Case(input={"ids": [1, 2, 3, 4, 5]}, output={"batches": [[1, 2], [3, 4], [5]], "count": 3})],
             hint="States.ArrayPartition($.ids, 2), then States.ArrayLength of that in a second state "
                  "(or nested: intrinsics nest)."),
    # 09 errors
    Exercise("09.1", "Retry the payment gateway with back-off",
             functions=lambdas,
             fields=[Field("Charge", "Retry[0].ErrorEquals", ["PaymentGatewayTimeout"]),
                     Field("Charge", "Retry[0].IntervalSeconds", 2), Field("Charge", "Retry[0].BackoffRate", 2),
                     Field("Charge", "Retry[0].MaxAttempts", 3)],
             cases=[Case(input={"orderId": "o-1", "amount": 20, "timeouts": 3},
                         output={"charged": 20, "status": "PAID"}, attempts={"Charge": 4}, duration=14,
                         extra=_retry_delays("Charge", [2, 4, 8]))],
             hint="IntervalSeconds 2, BackoffRate 2, MaxAttempts 3: the retries wait 2, 4 and 8 seconds."),
    Exercise("09.2", "Catch a declined card and keep the order",
             functions=lambdas,
             cases=[Case(input={"orderId": "o-2", "amount": 5, "card": "declined"}, ends_in="PaymentFailed",
                         status="FAILED", error="PaymentFailed", extra=_order_kept_with_error("PaymentFailed", "o-2")),
                    Case(input={"orderId": "o-3", "amount": 5}, output={"charged": 5, "status": "PAID"})],
             hint="Catch [{\"ErrorEquals\": [\"PaymentDeclined\"], \"ResultPath\": \"$.error\", "
                  "\"Next\": \"PaymentFailed\"}]."),
    Exercise("09.3", "Put the catch-all last",
             functions=lambdas,
             fields=[_catch_all_last("Charge")],
             cases=[Case(input={"orderId": "o-4", "amount": 5, "card": "declined"}, status="FAILED",
                         ends_in="PaymentFailed", error="PaymentFailed"),
                    Case(input={"orderId": "o-5", "amount": 5, "timeouts": 9}, status="FAILED", ends_in="Unexpected",
                         error="Unexpected")],
             hint="Catchers are tried in order; States.ALL must be alone in the last one."),
    # 10 integration patterns
    Exercise("10.1", "Wait for a human: send the token to SQS",
             fields=[_resource_is("AskManager", "arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
                     Field("AskManager", "Parameters.MessageBody.taskToken.$", "$$.Task.Token"),
                     Field("AskManager", "TimeoutSeconds", 3600)],
             cases=[Case(input={"orderId": "o-1"}, status="FAILED", error="States.Timeout", advance=3601,
                         duration=3600, setup=_approval_queue, extra=_token_in_queue)],
             hint="The .waitForTaskToken suffix, the token from $$.Task.Token in the message, and a "
                  "TimeoutSeconds so nobody waits for a year."),
    Exercise("10.2", "Run a child workflow and wait for it (.sync)",
             fields=[_resource_is("RunChild", "arn:aws:states:::states:startExecution.sync:2",
                                  "arn:aws:states:::states:startExecution.sync"),
                     Field("RunChild", "Parameters.StateMachineArn.$", "$.child",
                           "the child's ARN comes from the input's child field")],
             hint="arn:aws:states:::states:startExecution.sync:2 waits for the child and returns its "
                  "output as JSON."),
    # 11 direct integrations
    Exercise("11.1", "Save the order without a Lambda",
             rules=[_no_lambda],
             fields=[_resource_is("SaveOrder", "arn:aws:states:::dynamodb:putItem"),
                     Field("SaveOrder", "Parameters.TableName", "Orders")],
             cases=[Case(input={"orderId": "o-11", "total": 42}, setup=_orders_table, extra=_order_saved)],
             hint="dynamodb:putItem with Parameters {TableName, Item: {orderId: {\"S.$\": \"$.orderId\"}}}."),
    Exercise("11.2", "Publish to SNS with a formatted message",
             rules=[_no_lambda],
             fields=[_resource_is("Notify", "arn:aws:states:::sns:publish"),
                     Field("Notify", "Parameters.Message.$", "States.Format('Order {} confirmed', $.orderId)")],
             cases=[Case(input={"orderId": "o-12"}, setup=_orders_topic,
                         extra=lambda ex: None if isinstance(ex.output, Mapping) and "MessageId" in ex.output else
                         f"sns:publish answers with a MessageId; the output was {_short(ex.output, 80)}")],
             hint="sns:publish with TopicArn and \"Message.$\": \"States.Format('Order {} confirmed', $.orderId)\"."),
    # 12 distributed Map
    Exercise("12.1", "Read the CSV from S3 in a Distributed Map",
             fields=[Field("ProcessRows", "ItemProcessor.ProcessorConfig.Mode", "DISTRIBUTED"),
                     Field("ProcessRows", "ItemReader.Resource", "arn:aws:states:::s3:getObject"),
                     Field("ProcessRows", "ItemReader.ReaderConfig.InputType", "CSV"),
                     Field("ProcessRows", "ItemReader.ReaderConfig.CSVHeaderLocation", "FIRST_ROW")],
             cases=[Case(input={"key": "input/orders.csv"}, setup=_order_files, extra=_rows(3))],
             hint="ItemReader {Resource: s3:getObject, ReaderConfig {InputType CSV, CSVHeaderLocation FIRST_ROW}, "
                  "Parameters {Bucket, Key}} and ProcessorConfig Mode DISTRIBUTED."),
    Exercise("12.2", "Tolerate a few bad rows",
             fields=[Field("ProcessRows", "ToleratedFailurePercentage", 10)],
             cases=[Case(input={"key": "input/orders-with-errors.csv"}, setup=_order_files)],
             hint="ToleratedFailurePercentage 10 on the Map state."),
    # 13 Standard vs Express
    Exercise("13.1", "An Express workflow for a quick API call",
             type="EXPRESS", functions=lambdas,
             cases=[Case(input={"sku": "A1"}, output={"sku": "A1", "price": 5})],
             hint="Request-response only: call the GetPrice function (its ARN, or its name in sfnlab), "
                  "no .sync, .waitForTaskToken or activity."),
    Exercise("13.2", "Fit in five minutes",
             type="EXPRESS",
             cases=[Case(input={}, status="SUCCEEDED")],
             hint="An Express execution may run for at most 5 minutes (300 s): shorten the Wait."),
    # 14 capstone
    Exercise("14.1", "Make IsInStock see the stock",
             functions=capstone_lambdas,
             cases=[Case(input={**_ORDER, "productId": "p-1"}, ends_in="OrderComplete", setup=capstone_resources),
                    Case(input={**_ORDER, "productId": "p-0"}, status="FAILED", error="OutOfStock",
                         ends_in="NotifyOutOfStock", setup=capstone_resources)],
             hint="DynamoDB returns {\"N\": \"5\"}: a string. NumericGreaterThan on a string never matches; "
                  "convert it first (ResultSelector \"quantity.$\": \"States.StringToJson($.Item.quantity.N)\") "
                  "and compare $.inventory.quantity."),
    Exercise("14.2", "Never leave a payment error unhandled",
             functions=capstone_lambdas,
             fields=[_catch_all_last("ProcessPayment", "HandlePaymentError", "$.error")],
             cases=[Case(input={**_ORDER, "productId": "p-1", "timeouts": 4}, status="FAILED", error="PaymentFailed",
                         ends_in="HandlePaymentError", setup=capstone_resources, attempts={"ProcessPayment": 4}),
                    Case(input={**_ORDER, "productId": "p-1", "card": "declined"}, status="FAILED",
                         error="PaymentFailed", ends_in="HandlePaymentError", setup=capstone_resources),
                    Case(input={**_ORDER, "productId": "p-1", "timeouts": 1}, ends_in="OrderComplete",
                         setup=capstone_resources)],
             hint="Add a last catcher {\"ErrorEquals\": [\"States.ALL\"], \"ResultPath\": \"$.error\", "
                  "\"Next\": \"HandlePaymentError\"}: the retrier runs first, the catchers when it gives up."),
    # 16 JSONata and variables
    Exercise("16.1", "Rewrite a JSONPath state in JSONata",
             fields=[_query_language("JSONata")],
             cases=[Case(input={"items": [{"price": 5, "qty": 2}, {"price": 12, "qty": 1}]},
                         output={"total": 22, "lines": 2})],
             hint="\"Output\": {\"total\": \"{% $sum($states.input.items.(price * qty)) %}\", "
                  "\"lines\": \"{% $count($states.input.items) %}\"}"),
    Exercise("16.2", "Remember a value with Assign",
             cases=[Case(input={"customer": "ada", "items": [1, 2]}, output={"customer": "ada", "count": 2},
                         extra=_output_of("Remember", "customer"))],
             hint="Assign {\"customer\": ...} in the first state; read $customer in the last one."),
)
