"""Short, readable text for the parts of a definition: Choice rules, Retry, Catch, resources.

Choice rules read as expressions (``$.total > 100``, ``$.name == "x"``, ``$.a is present``,
``not ($.a < 1)``, ``... and ...``); the operator words come from :data:`COMPARISONS` and
:data:`TYPE_TESTS`, tables in the same shape as :mod:`sfnlab.choice`'s.
"""
from __future__ import annotations

import json
import re
import textwrap
from typing import Any, Mapping, Sequence

__all__ = ["rule_text", "retry_text", "catch_text", "resource_text", "wait_text", "wrap", "shorten",
           "seconds_text", "cause_text", "to_text"]

# Suffix of a comparison operator -> its symbol; the prefix (String/Numeric/Boolean/Timestamp)
# says how to print the literal.
COMPARISONS: Mapping[str, str] = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_COMPARISON = re.compile(r"^(String|Numeric|Boolean|Timestamp)(" + "|".join(
    sorted(COMPARISONS, key=len, reverse=True)) + r")(Path)?$")

# Is* test -> (text when true, text when false)
TYPE_TESTS: Mapping[str, tuple[str, str]] = {
    "IsPresent": ("is present", "is not present"),
    "IsNull": ("is null", "is not null"),
    "IsString": ("is a string", "is not a string"),
    "IsNumeric": ("is a number", "is not a number"),
    "IsBoolean": ("is a boolean", "is not a boolean"),
    "IsTimestamp": ("is a timestamp", "is not a timestamp"),
}
_JSONATA = re.compile(r"^\s*\{%(.*)%\}\s*$", re.S)


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def rule_text(rule: Mapping[str, Any]) -> str:
    """A Choice rule (JSONPath or JSONata ``Condition``) as one readable expression."""
    if "Condition" in rule:
        condition = rule["Condition"]
        match = _JSONATA.match(condition) if isinstance(condition, str) else None
        return match.group(1).strip() if match else _literal(condition)
    for word, key in (("and", "And"), ("or", "Or")):
        if key in rule:
            return f" {word} ".join(_operand(part, key) for part in rule[key])
    if "Not" in rule:
        return f"not ({rule_text(rule['Not'])})"
    return _comparison_text(rule)


def _operand(rule: Mapping[str, Any], parent: str) -> str:
    """An And/Or operand, in parentheses when it is itself a different And/Or."""
    text = rule_text(rule)
    if any(key in rule for key in ("And", "Or")) and parent not in rule:
        return f"({text})"
    return text


def _comparison_text(rule: Mapping[str, Any]) -> str:
    variable = rule.get("Variable", "?")
    for key, (yes, no) in TYPE_TESTS.items():
        if key in rule:
            return f"{variable} {yes if rule[key] else no}"
    if "StringMatches" in rule:
        return f"{variable} matches {_literal(rule['StringMatches'])}"
    for key, value in rule.items():
        match = _COMPARISON.match(key)
        if match:
            symbol = COMPARISONS[match.group(2)]
            operand = value if match.group(3) else _literal(value)
            return f"{variable} {symbol} {operand}"
    return variable


def seconds_text(seconds: float | int) -> str:
    """``2s``, ``1.5s``, ``90s``."""
    return f"{seconds:g}s"


def retry_text(retrier: Any) -> str:
    """One Retry entry: ``retry ×3, 2s ×2`` plus its errors unless it retries everything."""
    if retrier.max_attempts == 0:
        text = "no retry"
    else:
        text = f"retry ×{retrier.max_attempts}, {seconds_text(retrier.interval_seconds)}"
        if retrier.max_attempts > 1 and retrier.backoff_rate != 1:
            text += f" ×{retrier.backoff_rate:g}"
        if retrier.max_delay_seconds is not None:
            text += f" ≤{seconds_text(retrier.max_delay_seconds)}"
        if retrier.jitter_strategy == "FULL":
            text += " jitter"
    errors = tuple(retrier.error_equals)
    if errors != ("States.ALL",):
        text += ": " + ", ".join(errors)
    return text


def catch_text(catcher: Any) -> str:
    """One Catch entry's edge label: the errors it catches."""
    return "catch " + ", ".join(catcher.error_equals)


def resource_text(resource: str) -> str:
    """A Task resource, shortened: ``lambda ValidateOrder``, ``dynamodb:getItem``, ``sqs:sendMessage.sync``."""
    if not resource:
        return ""
    lambda_arn = re.match(r"^arn:[\w-]+:lambda:[\w-]+:\d+:function:([^:]+)", resource)
    if lambda_arn:
        return f"λ {lambda_arn.group(1)}"
    service = re.match(r"^arn:[\w-]+:states:[\w-]*:\d*:(.+)$", resource)
    if service:
        rest = service.group(1)
        if rest.startswith("activity:"):
            return "activity " + rest.split(":", 1)[1]
        return rest
    if ":" not in resource:
        return f"λ {resource}"
    return resource


def wait_text(raw: Mapping[str, Any]) -> str:
    """What a Wait state waits for: ``wait 10s``, ``until 2024-...``, ``wait $.delay``."""
    table = (("Seconds", "wait {}s"), ("SecondsPath", "wait {}"), ("Timestamp", "until {}"),
             ("TimestampPath", "until {}"))
    for key, template in table:
        if key in raw:
            value = raw[key]
            if isinstance(value, str):
                match = _JSONATA.match(value)
                value = match.group(1).strip() if match else value
            return template.format(value)
    return "wait"


def cause_text(cause: str) -> str:
    """A Cause for people: a Lambda error's JSON reduced to its ``errorMessage``."""
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        return cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return parsed["errorMessage"]
    return cause


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


def wrap(text: str, width: int, *, max_lines: int = 4) -> list[str]:
    """``text`` wrapped at ``width`` characters; at most ``max_lines`` lines, the last ending in …."""
    lines = textwrap.wrap(" ".join(str(text).split()), width=width, break_long_words=True,
                          break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = shorten(lines[-1] + " …", width)
        if not lines[-1].endswith("…"):
            lines[-1] += "…"
    return lines


def join_lines(parts: Sequence[str]) -> str:
    return "\n".join(parts)


def to_text(value: Any) -> str:
    """A JSON value as compact one-line text."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
