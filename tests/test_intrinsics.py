"""Unit tests for sfnlab.intrinsics: the call parser and the 18 States.* functions.

Expected values come from the conformance corpus (AWS answers) where it has them, and from
published AWS probes otherwise (truncation, limits, lenient Base64, ArrayContains by text).
"""
from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from sfnlab.errors import StatesError
from sfnlab.intrinsics import (
    FAILURE_ERROR,
    FUNCTIONS,
    IntrinsicCall,
    IntrinsicSyntaxError,
    compact_json,
    compile_intrinsic,
    is_intrinsic,
    java_text,
)
from sfnlab.paths import PathNotFound, Scope


def run(text: str, data: Any = None, *, context: Any = None, variables: Any = None, seed: int = 0) -> Any:
    return compile_intrinsic(text).evaluate(Scope(data, context, variables), random.Random(seed))


def fails(text: str, data: Any = None) -> StatesError:
    with pytest.raises(StatesError) as info:
        run(text, data)
    return info.value


def assert_invalid(text: str, data: Any = None) -> None:
    err = fails(text, data)
    name = text.split("(", 1)[0]
    assert (err.error, err.cause) == ("States.Runtime", f"Invalid arguments in {name}")


# ---------------------------------------------------------------------------------------------
# Parsing


def test_registry_has_the_18_functions() -> None:
    assert sorted(FUNCTIONS) == sorted(
        "States." + n
        for n in "Format StringToJson JsonToString Array ArrayPartition ArrayContains ArrayRange "
        "ArrayGetItem ArrayLength ArrayUnique Base64Encode Base64Decode Hash JsonMerge MathRandom "
        "MathAdd StringSplit UUID".split()
    )
    assert FAILURE_ERROR == "States.Runtime"


@pytest.mark.parametrize("value, expected", [
    ("States.Array()", True), ("States.Nope(1)", True), ("$.a", False), ("states.Array()", False),
    (" States.Array()", False), (42, False), (None, False),
])
def test_is_intrinsic(value: object, expected: bool) -> None:
    assert is_intrinsic(value) is expected


def test_literals_of_every_kind() -> None:
    assert run("States.Array('a', 1, -2, 1.5, 2e3, true, false, null)") == ["a", 1, -2, 1.5, 2000.0, True, False, None]
    assert isinstance(run("States.Array(1)")[0], int)


def test_paths_context_and_variables() -> None:
    ctx = {"Execution": {"Name": "exec-1"}}
    assert run("States.Array($.a, $$.Execution.Name, $v, $)", {"a": 1}, context=ctx, variables={"v": [2]}) == [
        1, "exec-1", [2], {"a": 1}]
    # A path may hold brackets, quotes, commas and parentheses of its own.
    data = {"a b": [{"x": 1}, {"x": 2}], "k,": 3}
    assert run("States.Array($['a b'][?(@.x == 2)], $['k,'])", data) == [[{"x": 2}], 3]


def test_whitespace_between_arguments() -> None:
    assert run("States.Array( $.a ,\t'b' ,3 )", {"a": 1}) == [1, "b", 3]


def test_escapes_in_string_literals() -> None:
    assert run(r"States.Array('it\'s', 'a\\b', '\{\}')") == ["it's", "a\\b", "{}"]
    # A double quote and a newline need no escape (corpus: escape_sequence, json_merge_escaped).
    assert run("States.StringSplit('Hello\nWorld', '\n')") == ["Hello", "World"]
    assert run("""States.StringToJson('{"k": "v"}')""") == {"k": "v"}


@pytest.mark.parametrize("text, reason", [
    # AWS refuses these definitions (corpus: test_illegal_escapes): only ' { } \ may be escaped.
    (r"""States.Format('He said, \"Hello, {}!\"', 'x')""", "only \\', \\{, \\} and \\\\ may be escaped"),
    (r"States.Base64Decode('YWJj\nZA==')", "only \\', \\{, \\} and \\\\ may be escaped"),
    ("States.Array('abc", "unterminated string literal"),
    ("States.Array(", "expected an argument"),
    ("States.Array($.a", "expected ',' or ')'"),
    ("States.Array($.a) trailing", "unexpected text after the call"),
    ("States.Array([1,2])", "expected an argument"),
    ("States.Array(1.)", "expected an argument"),
    ("States.Array(.5)", "expected an argument"),
    ("States.Array(01)", "expected an argument"),
    ("States.Array(True)", "expected an argument"),
    ("States.ArrayGetItem($.a, )", "expected an argument"),
    ("States.Array(\"a\")", "expected an argument"),
    ("States.Compare($.a, $.b)", "unknown intrinsic function States.Compare"),
    ("States.Array", "expected '('"),
    ("States.Array ()", "expected '('"),
    ("Foo.Array()", "expected an intrinsic function name"),
    ("States.Array($.a[)", "invalid path"),
])
def test_syntax_errors(text: str, reason: str) -> None:
    with pytest.raises(IntrinsicSyntaxError) as info:
        compile_intrinsic(text)
    assert info.value.reason.startswith(reason)
    assert isinstance(info.value, ValueError)


def test_syntax_error_position() -> None:
    with pytest.raises(IntrinsicSyntaxError) as info:
        compile_intrinsic("States.Array(1, ?)")
    assert info.value.position == 16
    assert str(info.value) == ("expected an argument (a 'string', number, true, false, null, path or call)"
                               " at position 16 in 'States.Array(1, ?)'")


def test_nesting_limit_is_ten() -> None:
    ten = "States.Array(" * 10 + "1" + ")" * 10
    assert run(ten) == [[[[[[[[[[1]]]]]]]]]]
    assert compile_intrinsic(ten).depth == 10
    with pytest.raises(IntrinsicSyntaxError, match="nested more than 10 deep"):
        compile_intrinsic("States.Array(" * 11 + "1" + ")" * 11)


def test_wrong_arity_is_a_runtime_failure_not_a_syntax_error() -> None:
    # AWS accepts the definition and fails the execution with States.Runtime.
    for text in ("States.Hash('a')", "States.Hash('a', 'MD5', 'x')", "States.Base64Encode()",
                 "States.ArrayContains($.a)", "States.UUID(1)", "States.Format()", "States.MathRandom(1)"):
        compile_intrinsic(text)
        assert_invalid(text, {"a": [1]})


def test_call_object_is_frozen_cached_and_printable() -> None:
    call = compile_intrinsic("States.Format( 'x {}' ,States.Array($.a,1))")
    assert call is compile_intrinsic("States.Format( 'x {}' ,States.Array($.a,1))")
    assert str(call) == "States.Format('x {}', States.Array($.a, 1))"
    assert repr(call) == "IntrinsicCall(\"States.Format('x {}', States.Array($.a, 1))\")"
    assert call.name == "States.Format" and isinstance(call.args[1], IntrinsicCall)
    with pytest.raises(AttributeError):
        call.name = "States.Array"  # type: ignore[misc]


def test_nested_calls_corpus() -> None:
    ctx = {"StateMachine": {"Name": "machine-name-x"}}
    assert run("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", context=ctx) == "machine"
    text = ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
            "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))")
    assert run(text, context=ctx) == "x"


def test_missing_path_raises_path_not_found() -> None:
    with pytest.raises(PathNotFound) as info:
        run("States.Hash($.missing, 'SHA-256')", {})
    assert info.value.path.text == "$.missing"
    with pytest.raises(PathNotFound):
        run("States.Array($undefinedVariable)", {}, variables={})


# ---------------------------------------------------------------------------------------------
# States.Format and how values become text


@pytest.mark.parametrize("value, text", [
    ("", ""), (" ", " "), ("HelloWorld", "HelloWorld"), (None, "null"), (1, "1"), (1.1, "1.1"),
    (True, "true"), ('{"Arg1": 1, "Arg2": []}', '{"Arg1": 1, "Arg2": []}'),
    ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
    ({"Id": "arn:x", "Name": "m"}, "{Id=arn:x, Name=m}"),
    ([1, "a", None, [True], {"k": "v"}], "[1, a, null, [true], {k=v}]"),
    (1.0, "1.0"), (-0.0, "-0.0"), (0.001, "0.001"), (1234567.5, "1234567.5"),
    (1e7, "1.0E7"), (1.5e-4, "1.5E-4"), (-2.5e20, "-2.5E20"), (123456789.0, "1.23456789E8"),
])
def test_format_renders_values_like_aws(value: Any, text: str) -> None:
    assert java_text(value) == text
    assert run("States.Format('v={}.', $.v)", {"v": value}) == f"v={text}."


def test_format_corpus_two_arguments() -> None:
    data = {"fst": {"Arg1": 1, "Arg2": []}, "snd": None}
    assert run("States.Format('Formatting arguments fst={} and snd={}.', $.fst, $.snd)", data) == (
        "Formatting arguments fst={Arg1=1, Arg2=[]} and snd=null.")


def test_format_escaped_braces_are_not_placeholders() -> None:
    assert run(r"States.Format('\{{}\} \\ \'x\'', 'v')") == "{v} \\ 'x'"
    assert run("States.Format('no placeholders')") == "no placeholders"
    assert run("States.Format($.t, $.n)", {"t": "Hello {}", "n": "Ada"}) == "Hello Ada"


@pytest.mark.parametrize("text, data", [
    ("States.Format('{} {}', $.a)", {"a": 1}),
    ("States.Format('{}', 1, 2)", None),
    ("States.Format('Hello {', 1)", None),
    ("States.Format('}')", None),
    ("States.Format('Hello {{}}', 1)", None),
    ("States.Format($.t, 1)", {"t": 123}),
])
def test_format_failures(text: str, data: Any) -> None:
    assert_invalid(text, data)


# ---------------------------------------------------------------------------------------------
# JSON


@pytest.mark.parametrize("text, value", [
    ("", None), (" ", None), ("null", None), ("-0", 0), ("1", 1), ("1.1", 1.1), ("true", True),
    ('"HelloWorld"', "HelloWorld"), ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
])
def test_string_to_json_corpus(text: str, value: Any) -> None:
    assert run("States.StringToJson($.s)", {"s": text}) == value


@pytest.mark.parametrize("value", ["{bad", "NaN", "[1,", 5, None, {"a": 1}])
def test_string_to_json_failures(value: Any) -> None:
    assert_invalid("States.StringToJson($.s)", {"s": value})


@pytest.mark.parametrize("value, text", [
    (None, "null"), (0, "0"), (1, "1"), (1.1, "1.1"), (True, "true"), ("HelloWorld", '"HelloWorld"'),
    ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'), ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
    ({"é": "a\"b\n"}, '{"é":"a\\"b\\n"}'), (1e10, "1.0E10"),
])
def test_json_to_string_is_compact(value: Any, text: str) -> None:
    assert run("States.JsonToString($.v)", {"v": value}) == text
    assert compact_json(value) == text


def test_json_merge_is_shallow_and_second_wins() -> None:
    data = {"fst": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "snd": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}}
    assert run("States.JsonMerge($.fst, $.snd, false)", data) == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}
    inner = """States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), $.x, false)"""
    assert run(inner, {"x": {"c": "v"}}) == {"constant_in_literal": "false", "c": "v"}


@pytest.mark.parametrize("text", [
    "States.JsonMerge($.o, $.o, true)", "States.JsonMerge($.o, $.o, 'false')", "States.JsonMerge($.o, $.l, false)",
    "States.JsonMerge($.l, $.o, false)", "States.JsonMerge($.o, $.o)",
])
def test_json_merge_failures(text: str) -> None:
    assert_invalid(text, {"o": {"a": 1}, "l": [1]})


# ---------------------------------------------------------------------------------------------
# Arrays


def test_array() -> None:
    assert run("States.Array()") == []
    assert run("States.Array($.f, $.s)", {"f": {"Arg1": 1}, "s": None}) == [{"Arg1": 1}, None]
    assert run("States.Array(1, States.Array(2, 3))") == [1, [2, 3]]


@pytest.mark.parametrize("array, size, chunks", [
    ([], 1, []), ([0], 5, [[0]]), ([0, 1, 2], 2, [[0, 1], [2]]), ([0, 1, 2, 3], 2, [[0, 1], [2, 3]]),
    ([0, 1, 2, 3], 3, [[0, 1, 2], [3]]), ([1, 2, 3, 4, 5], 2.6, [[1, 2], [3, 4], [5]]),  # 2.6 truncates
])
def test_array_partition(array: list, size: Any, chunks: list) -> None:
    assert run("States.ArrayPartition($.a, $.n)", {"a": array, "n": size}) == chunks


@pytest.mark.parametrize("size", [0, -1, 0.6, -0.4, "2", None, True])
def test_array_partition_bad_size(size: Any) -> None:
    assert_invalid("States.ArrayPartition($.a, $.n)", {"a": [1, 2], "n": size})


def test_array_partition_needs_an_array() -> None:
    assert_invalid("States.ArrayPartition('not-array', 2)")


@pytest.mark.parametrize("array, value, found", [
    ([], None, False), ([], [], False), ([[1, 2, 3], 2], None, False), ([[1, 2, 3], 2], [1, 2, 3], True),
    ([{"1": 2, "2": []}], [], False), ([{"1": 2, "2": []}], {"1": 2, "2": []}, True),
    ([True, False], False, True), ([0, 1, -1], False, False), ([{"a": 1}], {"a": 1, "extra": None}, False),
    # AWS compares printed text: key order matters, "true" matches true.
    ([{"a": 1, "b": 2}], {"b": 2, "a": 1}, False), (["true", "x"], True, True), (["7"], 7, True),
])
def test_array_contains(array: list, value: Any, found: bool) -> None:
    assert run("States.ArrayContains($.a, $.v)", {"a": array, "v": value}) is found


def test_array_contains_needs_an_array() -> None:
    assert_invalid("States.ArrayContains('not-array', 'x')")


@pytest.mark.parametrize("args, result", [
    ("0, 9, 3", [0, 3, 6, 9]), ("0, 10, 3", [0, 3, 6, 9]), ("1, 9, 9", [1]), ("1, 9, 2", [1, 3, 5, 7, 9]),
    ("5, 1, -2", [5, 3, 1]), ("5, 1, 1", []), ("1, 5, -1", []), ("3, 3, -1", [3]), ("-2, 2, 2", [-2, 0, 2]),
    ("1.6, 1.4, 1", [1]), ("5.4, -0.6, -2.4", [5, 3, 1]),  # arguments truncate toward zero
])
def test_array_range(args: str, result: list) -> None:
    assert run(f"States.ArrayRange({args})") == result


def test_array_range_limit_is_1000_items() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert run("States.ArrayRange(1000, 1, -1)")[-1] == 1
    for args in ("1, 1001, 1", "1001, 1, -1", "1, 10, 0", "1, 10, 0.49", "'a', 5, 1", "1, 5, null"):
        assert_invalid(f"States.ArrayRange({args})")


def test_array_get_item() -> None:
    assert run("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5}) == 6
    assert run("States.ArrayGetItem($.a, 1.2)", {"a": [10, 20, 30]}) == 20
    assert run("States.ArrayGetItem($.a, 999)", {"a": []}) is None  # AWS: empty array gives null
    for index in ("3", "-1", "'1'", "null"):
        assert_invalid(f"States.ArrayGetItem($.a, {index})", {"a": [10, 20, 30]})
    assert_invalid("States.ArrayGetItem('not-array', 0)")


def test_array_length() -> None:
    assert run("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 9
    assert run("States.ArrayLength(States.Array())") == 0
    assert_invalid("States.ArrayLength($.o)", {"o": {"k": 1}})


def test_array_unique_keeps_first_occurrences() -> None:
    assert run("States.ArrayUnique($.a)", {"a": [1, 2, 2, 3, 3, 4]}) == [1, 2, 3, 4]
    data = [None, None, True, True, 1, 1, 1.0, "1", [None], [None], {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 2}]
    out = run("States.ArrayUnique($.a)", {"a": data})
    assert out == [None, True, 1, 1.0, "1", [None], {"a": 1, "b": 2}, {"a": 2}]
    assert [type(v) for v in out[1:4]] == [bool, int, float]
    assert_invalid("States.ArrayUnique('x')")


# ---------------------------------------------------------------------------------------------
# Encoding and hashing


def test_base64_encode_and_decode_corpus() -> None:
    assert run("States.Base64Encode($.s)", {"s": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}) == "Data to encode"
    assert run("States.Base64Encode('')") == "" and run("States.Base64Decode('')") == ""
    assert run("States.Base64Encode('🚀')") == "8J+agA=="
    assert run("States.Base64Decode('44GT44KT44Gr44Gh44Gv')") == "こんにちは"


def test_base64_decode_is_lenient_like_aws() -> None:
    assert run("States.Base64Decode('abc')") == "i\ufffd"  # missing padding tolerated
    assert run("States.Base64Decode(' YWJjZA== ')") == "abcd"  # non-alphabet characters skipped
    assert run("States.Base64Decode('YWJjZA==YWJj')") == "abcd"  # '=' ends the data
    assert run("States.Base64Decode('!!!invalid!!!')") == run("States.Base64Decode('invalid')")


def test_base64_limits_and_types() -> None:
    assert len(run("States.Base64Encode($.s)", {"s": "a" * 10_000})) == 13_336
    assert_invalid("States.Base64Encode($.s)", {"s": "a" * 10_001})
    assert_invalid("States.Base64Decode($.s)", {"s": "A" * 10_001})
    for text in ("States.Base64Encode(123)", "States.Base64Encode($.o)", "States.Base64Decode($.o)",
                 "States.Base64Encode('a', 'b')"):
        assert_invalid(text, {"o": {}})


@pytest.mark.parametrize("algorithm, digest", [
    ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
    ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ("SHA-384", "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
    ("SHA-512", "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a"
                "533d30d425402d4f91316d871303aac4"),
])
def test_hash_corpus(algorithm: str, digest: str) -> None:
    assert run("States.Hash($.d, $.a)", {"d": "input data", "a": algorithm}) == digest


def test_hash_limits_and_algorithms() -> None:
    assert run("States.Hash('', 'SHA-256')") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert len(run("States.Hash($.s, 'MD5')", {"s": "a" * 10_000})) == 32
    assert_invalid("States.Hash($.s, 'MD5')", {"s": "a" * 10_001})
    for algorithm in ("'sha-256'", "'SHA256'", "''", "'MD-5'", "123", "null"):
        assert_invalid(f"States.Hash('data', {algorithm})")
    assert run("States.Hash(123, 'MD5')") == run("States.Hash('123', 'MD5')")  # AWS hashes the text


# ---------------------------------------------------------------------------------------------
# Math, strings, UUID


@pytest.mark.parametrize("a, b, total", [
    (-9, 3, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.49, -1.5, -2), (-1.5, -1.51, -3), (1.49, 0, 1),
    (1.49, -1.49, 0), (1.5, 0, 2), (1.51, 0, 2), (-1.49, 0, -1), (-1.5, 0, -1), (-1.51, 0, -2), (0.5, 0, 1),
    (2.5, 0, 3), (3.5, 0, 4), (-0.5, 0.5, 1), (-0.5, 0, 0), (-2.5, 0, -2), (-3.5, 0, -3),
    (2147483646, 1, 2147483647), (-2147483647, -1, -2147483648),
])
def test_math_add_rounds_half_up_corpus(a: Any, b: Any, total: int) -> None:
    result = run("States.MathAdd($.a, $.b)", {"a": a, "b": b})
    assert result == total and isinstance(result, int)


@pytest.mark.parametrize("args", [
    "2147483647, 1", "-2147483648, -1", "3000000000, 1", "'a', 1", "1, '2'", "null, 1", "true, 1", "$.l, 1",
])
def test_math_add_failures(args: str) -> None:
    assert_invalid(f"States.MathAdd({args})", {"l": [1]})


def test_math_random() -> None:
    values = {run("States.MathRandom(1, 4)", seed=s) for s in range(40)}
    assert values == {1, 2, 3}
    assert run("States.MathRandom(1.6, 5.4)", seed=3) in range(1, 5)
    # With a seed argument the value depends on that seed only, not on the execution's source.
    seeded = {run("States.MathRandom(0, 1000, 42)", seed=s) for s in range(5)}
    assert seeded == {random.Random(42).randrange(0, 1000)}
    for args in ("1, 1", "10, 5", "1.49, 1.49", "1.4, 1.6", "'a', 10", "1, 10, 'seed'", "1, 10, null"):
        assert_invalid(f"States.MathRandom({args})")


@pytest.mark.parametrize("text, delimiters, pieces", [
    (" ", ",", [" "]), (" , ", ",", [" ", " "]), (", , ,", ",", [" ", " "]), (",,,,", ",", []),
    ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
    ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
    ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]), ("a]b^c", "]^", ["a", "b", "c"]),
])
def test_string_split_corpus(text: str, delimiters: str, pieces: list) -> None:
    assert run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters}) == pieces


def test_string_split_needs_strings() -> None:
    assert_invalid("States.StringSplit($.s, ',')", {"s": ["a,b"]})
    assert_invalid("States.StringSplit('a,b', 1)")


def test_uuid_is_v4_and_seeded() -> None:
    first = run("States.UUID()", seed=7)
    parsed = uuid.UUID(first)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == first
    assert run("States.UUID()", seed=7) == first
    assert run("States.UUID()", seed=8) != first
