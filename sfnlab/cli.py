"""The ``sfnlab`` command line.

    sfnlab run DEFINITION [--input JSON | --input @FILE] [--functions FILE.py] [--setup FILE.py] [--name NAME]
    sfnlab validate DEFINITION
    sfnlab quiz [--topic T] [--exam] [--count N] | quiz grade RESPONSES... --key KEY [-o CSV]
    sfnlab render DEFINITION [--input JSON] [--functions FILE.py] [-o out.svg|out.png] [--timeline]

``run`` prints the outcome and a compact history and exits 0 when the execution succeeded, 1 when
it did not; ``validate`` prints AWS's diagnostics and exits 1 when there are errors. Usage errors
and unreadable files exit 2, like other command-line tools. DEFINITION is a file path, or ``-``
for standard input.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import DefinitionError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable files: exit 2 with a message, never a traceback."""


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    try:
        return path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None


def _read_input(value: str | None) -> Any:
    if value is None:
        return {}
    text = _read_text(value[1:]) if value.startswith("@") else value
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--input is not valid JSON: {exc}") from None


def load_functions(spec: str) -> dict[str, Callable]:
    """Lambda functions from a Python file or module.

    A ``FUNCTIONS`` dict in the module is used as is; otherwise every public function defined in
    the module is registered under its own name.
    """
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec)
        if not path.exists():
            raise UsageError(f"cannot read {spec}: no such file")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.path.insert(0, str(path.parent.resolve()))
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.pop(0)
    else:
        try:
            module = importlib.import_module(spec)
        except ImportError as exc:
            raise UsageError(f"cannot import {spec}: {exc}") from None
    table = getattr(module, "FUNCTIONS", None)
    if isinstance(table, dict):
        return dict(table)
    return {
        name: fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == module.__name__
    }


def run_setup(spec: str) -> None:
    """Call ``setup(aws_client)`` from FILE.py[:function] before a run: it creates the queues,
    tables and buckets the state machine uses, with boto3 clients of sfnlab's local account."""
    path, _, name = spec.partition(":")
    module_spec = importlib.util.spec_from_file_location(Path(path).stem, path) if Path(path).exists() else None
    if module_spec is None or module_spec.loader is None:
        raise UsageError(f"cannot read {path}: no such file")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    setup = getattr(module, name or "setup", None)
    if not callable(setup):
        raise UsageError(f"{path} has no function {name or 'setup'}(aws_client)")
    from . import aws_client

    setup(aws_client)


def _format_diagnostic(d) -> str:
    where = f" at {d.location}" if d.location else ""
    return f"{d.severity} {d.code}{where}: {d.message}"


def cmd_validate(args: argparse.Namespace) -> int:
    from .validation import validate

    diagnostics = validate(_read_text(args.definition))
    if args.json:
        errors = any(d.severity == "ERROR" for d in diagnostics)
        print(json.dumps({"result": "FAIL" if errors else "OK", "diagnostics": [d.as_dict() for d in diagnostics]},
                         indent=2))
    else:
        for d in diagnostics:
            print(_format_diagnostic(d))
        if not diagnostics:
            print("OK: the definition is valid")
    return EXIT_FAILED if any(d.severity == "ERROR" for d in diagnostics) else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .display import history_text
    from .machine import StateMachine

    functions: dict[str, Callable] = {}
    for spec in args.functions or []:
        functions.update(load_functions(spec))
    definition = _read_text(args.definition)
    for spec in args.setup or []:
        run_setup(spec)
    try:
        machine = StateMachine(definition, functions=functions, name=args.state_machine_name)
    except DefinitionError as exc:
        for d in exc.diagnostics:
            print(_format_diagnostic(d), file=sys.stderr)
        if not exc.diagnostics:
            print(exc.message, file=sys.stderr)
        return EXIT_FAILED
    try:
        execution = machine.run(_read_input(args.input), name=args.name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps({
            "status": execution.status,
            "output": execution.output,
            "error": execution.error,
            "cause": execution.cause,
            "seconds": (execution.stop_time or execution.runtime.clock.now) - execution.start_time,
        }, indent=2))
    else:
        print(f"status: {execution.status}")
        if execution.status == "SUCCEEDED":
            print("output: " + json.dumps(execution.output, ensure_ascii=False))
        if execution.error is not None:
            print(f"error:  {execution.error}")
        if execution.cause is not None:
            print(f"cause:  {execution.cause}")
        elapsed = (execution.stop_time or execution.runtime.clock.now) - execution.start_time
        print(f"virtual time: {elapsed:g} s, {len(execution.events)} events")
        if not args.quiet:
            print()
            print(history_text(execution))
    return EXIT_OK if execution.status == "SUCCEEDED" else EXIT_FAILED


def cmd_render(args: argparse.Namespace) -> int:
    """Draw a definition (DOT text on stdout, or a .svg/.png/.dot file); with --input, run it first."""
    from . import render
    from .machine import StateMachine

    functions: dict[str, Callable] = {}
    for spec in args.functions or []:
        functions.update(load_functions(spec))
    try:
        machine = StateMachine(_read_text(args.definition), functions=functions)
    except DefinitionError as exc:
        for d in exc.diagnostics:
            print(_format_diagnostic(d), file=sys.stderr)
        return EXIT_FAILED
    execution = machine.run(_read_input(args.input)) if args.input is not None else None
    if args.timeline:
        if execution is None:
            raise UsageError("--timeline needs --input (an execution to chart)")
        chart = render.timeline(execution)
        if args.output is None:
            print(chart.svg)
        elif not args.output.endswith(".svg"):
            raise UsageError("a timeline is written as .svg")
        else:
            chart.save(args.output)
        return EXIT_OK
    graph = render.draw(machine, execution)
    if args.output is None:
        print(graph.source)
        return EXIT_OK
    try:
        render.save(graph, args.output)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (OSError, RuntimeError) as exc:  # no dot program, or it failed
        print(f"sfnlab: cannot render {args.output}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sfnlab", description="Learn AWS Step Functions offline.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"sfnlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    run = commands.add_parser("run", help="run a state machine and print its outcome and history")
    run.add_argument("definition", help="ASL definition file (JSON), or - for standard input")
    run.add_argument("--input", "-i", help="execution input as JSON text, or @FILE")
    run.add_argument("--functions", "-f", action="append", metavar="FILE.py|MODULE",
                     help="Python Lambda functions (a FUNCTIONS dict, or every public function); repeatable")
    run.add_argument("--setup", action="append", metavar="FILE.py[:FUNCTION]",
                     help="call setup(aws_client) first, to create the queues/tables/buckets the machine uses")
    run.add_argument("--name", help="execution name (default: a UUID)")
    run.add_argument("--state-machine-name", default="StateMachine", help="state machine name")
    run.add_argument("--json", action="store_true", help="print the outcome as JSON, without the history")
    run.add_argument("--quiet", "-q", action="store_true", help="leave out the history")
    run.set_defaults(handler=cmd_run)

    validate = commands.add_parser("validate", help="check a definition as AWS does; exit 1 on errors")
    validate.add_argument("definition", help="ASL definition file (JSON), or - for standard input")
    validate.add_argument("--json", action="store_true", help="print ValidateStateMachineDefinition's response")
    validate.set_defaults(handler=cmd_validate)

    draw = commands.add_parser("render", help="draw a state machine; with --input, run it and draw the path taken")
    draw.add_argument("definition", help="ASL definition file (JSON), or - for standard input")
    draw.add_argument("--input", "-i", help="run with this input (JSON text, or @FILE) and overlay the execution")
    draw.add_argument("--functions", "-f", action="append", metavar="FILE.py|MODULE",
                      help="Python Lambda functions for the run; repeatable")
    draw.add_argument("--output", "-o", metavar="FILE", help="out.svg, out.png or out.dot (default: DOT on stdout)")
    draw.add_argument("--timeline", action="store_true", help="chart the execution in virtual time (SVG)")
    draw.set_defaults(handler=cmd_render)

    serve = commands.add_parser("serve", help="answer the Step Functions API over HTTP (AWS CLI, SDKs)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; any other is reachable by others: no auth)")
    serve.add_argument("--port", type=int, default=8083, help="port (default 8083; 0 picks a free one)")
    serve.add_argument("--functions", "-f", action="append", metavar="FILE.py|MODULE",
                       help="Python Lambda functions; repeatable")
    serve.add_argument("--mock-config", metavar="FILE", help="Step Functions Local mock configuration (JSON)")
    serve.add_argument("--max-connections", type=_positive_int, default=100, metavar="N",
                       help="connections served at once (default 100); more wait to be accepted")
    serve.set_defaults(handler=cmd_serve)
    add_quiz_command(commands)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_quiz_command(commands) -> None:
    """``sfnlab quiz``: terminal quizzes and classroom grading (see :mod:`sfnlab.quiz.terminal`)."""
    from .quiz.terminal import add_quiz_parser

    add_quiz_parser(commands)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the Step Functions API of one local account until interrupted."""
    from .server import is_loopback, serve

    functions: dict[str, Callable] = {}
    for spec in args.functions or []:
        functions.update(load_functions(spec))

    def announce(host: str, port: int) -> None:
        # the warning comes first: whoever waits for the announcement has seen it by then
        if not is_loopback(host):
            print(f"sfnlab: warning: listening on {host}, not loopback: anyone who can reach this machine can "
                  "start, read and stop its executions and use its local AWS services (there is no "
                  "authentication). Use only on a network you trust.", file=sys.stderr, flush=True)
        print(f"sfnlab: Step Functions API on http://{host}:{port} (Ctrl-C stops)", flush=True)

    try:
        serve(args.host, args.port, functions=functions, mock_config=args.mock_config, announce=announce,
              max_connections=args.max_connections)
    except OSError as exc:
        import errno
        import socket

        if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        raise
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"sfnlab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`sfnlab render ... | head`): stop quietly, as other CLIs do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
