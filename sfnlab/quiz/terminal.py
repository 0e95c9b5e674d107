"""The terminal quiz, and the handlers of ``sfnlab quiz ...``.

Answers are read line by line from standard input, so it works in a pipe (not a TTY) too:
``printf 'b\\nac\\n' | sfnlab quiz --topic choice --count 2 --no-store``.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import TextIO

from .classroom import build_set, export_key, export_set, grade_responses, load_key, write_gradebook
from .grading import grade, parse_answer, score
from .model import QuizFormatError, Question, load_bank, load_questions
from .render import machine_text, to_text
from .review import ReviewQueue
from .sampling import arranged, draw_exam, key_letters, letters, select, shuffled
from .store import ResultsStore

__all__ = ["run_terminal_quiz", "add_quiz_parser", "bank_stats"]


def _ask(q: Question, number: int, total: int, inp: TextIO, out: TextIO) -> tuple[str, ...] | None:
    out.write(f"\n[{number}/{total}] {q.domain.split()[0]} · {q.topic} · {q.difficulty}\n")
    out.write(to_text(q.stem) + "\n")
    if q.machine:
        out.write("\n" + machine_text(q.machine) + "\n")
    out.write("\n")
    shown = letters(q)
    for o in arranged(q):
        out.write(f"  {shown[o.id]}. {to_text(o.text, 84)}\n")
    prompt = (f"Order all {len(q.options)} letters (e.g. {''.join(sorted(shown.values(), reverse=True))})" if q.is_order
              else f"Select {q.select} (e.g. AC)" if q.is_multiple else "Select one letter")
    for _ in range(5):
        out.write(f"{prompt}, or Enter to skip: ")
        out.flush()
        line = inp.readline()
        if not line:              # end of input: stop the quiz
            out.write("\n")
            return None
        if not line.strip():
            return ()
        try:
            return parse_answer(q, line)
        except ValueError as exc:
            out.write(f"  {exc}\n")
    return ()


def _feedback(q: Question, chosen: tuple[str, ...], out: TextIO) -> bool:
    g = grade(q, chosen)
    out.write(("Correct!" if g.correct else "Not quite.") + " Answer: " +
              ("→".join if q.is_order else ", ".join)(key_letters(q)) + "\n")
    shown = letters(q)
    for o in arranged(q):
        mark = "+" if o.id in q.answer else "-"
        mine = " (yours)" if o.id in chosen else ""
        out.write(f"  {mark} {shown[o.id]}{mine}: {to_text(o.feedback, 80)}\n")
    out.write("Why: " + to_text(q.explanation, 84) + "\n")
    return g.correct


def run_terminal_quiz(questions: list[Question], *, exam: bool = False, store: ResultsStore | None = None,
                      inp: TextIO | None = None, out: TextIO | None = None) -> int:
    """Ask the questions; practice gives feedback after each, exam at the end. Returns the number right."""
    inp = inp or sys.stdin
    out = out or sys.stdout
    session = store.new_session() if store else None
    mode = "exam" if exam else "practice"
    grades = {}
    asked: list[Question] = []
    for n, q in enumerate(questions, 1):
        started = time.monotonic()
        chosen = _ask(q, n, len(questions), inp, out)
        if chosen is None:
            break
        asked.append(q)
        g = grade(q, chosen)
        grades[q.id] = g
        if store:
            store.record(q, chosen, g.correct, mode=mode, session=session, seconds=time.monotonic() - started)
        if not exam:
            _feedback(q, chosen, out)
    if exam:
        out.write("\n===== Review =====\n")
        for q in asked:
            out.write("\n" + to_text(q.stem) + "\n")
            _feedback(q, grades[q.id].chosen, out)
    s = score(questions if exam else asked, grades)
    out.write(f"\nScore: {s.correct}/{s.total} ({s.percent:.0f}%)\n")
    if exam:
        out.write(f"Illustrative scaled score: {s.scaled}/1000 (pass line 720; AWS's scaling is not published)\n")
    if s.by_topic:
        out.write("By topic:\n")
        for topic, (c, t) in sorted(s.by_topic.items()):
            out.write(f"  {topic:24} {c}/{t}\n")
    return s.correct


def bank_stats(questions: list[Question]) -> str:
    total = len(questions)
    proven = sum(q.proven for q in questions)
    lines = [f"questions: {total}", f"proven by the interpreter: {proven} ({100.0 * proven / total:.1f}%)",
             f"multiple response: {sum(q.is_multiple for q in questions)} "
             f"({100.0 * sum(q.is_multiple for q in questions) / total:.1f}%)"]
    for label, key in (("domain", lambda q: q.domain), ("task", lambda q: q.task), ("topic", lambda q: q.topic),
                       ("type", lambda q: q.type), ("difficulty", lambda q: q.difficulty)):
        lines.append(f"\nby {label}:")
        counts = Counter(key(q) for q in questions)
        proven_by = Counter(key(q) for q in questions if q.proven)
        for k, v in sorted(counts.items()):
            lines.append(f"  {k:70} {v:4}  (proven {proven_by.get(k, 0)})")
    return "\n".join(lines)


# -- command line -------------------------------------------------------------------------------
def _bank(args) -> list[Question]:
    return load_bank(args.bank)


def cmd_quiz(args: argparse.Namespace) -> int:
    handler = {"grade": _cmd_grade, "build": _cmd_build, "stats": _cmd_stats, "validate": _cmd_validate,
               "progress": _cmd_progress, "review": _cmd_review}.get(args.quiz_command or "", _cmd_take)
    try:
        return handler(args)
    except (QuizFormatError, KeyError, ValueError, FileNotFoundError) as exc:
        print(f"sfnlab quiz: error: {exc}", file=sys.stderr)
        return 2


def _store(args) -> ResultsStore | None:
    return None if args.no_store else ResultsStore(learner=args.learner)


def _cmd_take(args) -> int:
    if args.set:
        pool = [q for q in load_questions(args.set) if not q.pending]
        if not all(q.has_key for q in pool):
            print("sfnlab quiz: this set has no answer key; answer it in Jupyter with mode='assignment'", file=sys.stderr)
            return 2
    else:
        pool = _bank(args)
    pool = select(pool, topics=args.topic, domains=args.domain, ids=args.ids)
    if not pool:
        print("sfnlab quiz: no question matches", file=sys.stderr)
        return 2
    if args.exam:
        pool = draw_exam(pool, args.count or 65, seed=args.seed)
    else:
        pool = shuffled(pool, args.seed)[: args.count or 10]
    run_terminal_quiz(pool, exam=args.exam, store=_store(args))
    return 0


def _cmd_review(args) -> int:
    store = ResultsStore(learner=args.learner)
    due = ReviewQueue(store).due(_bank(args))
    if not due:
        print("Nothing is due for review.")
        return 0
    run_terminal_quiz(due[: args.count or 10], store=None if args.no_store else store)
    return 0


def _cmd_progress(args) -> int:
    store = ResultsStore(learner=args.learner)
    for key, s in store.progress(by=args.by).items():
        print(f"{key:40} {s['correct']:4}/{s['answered']:<4} {s['percent']:5.1f}%")
    wrong = store.wrong_answers()
    print(f"\n{len(wrong)} questions last answered wrongly" + (": " + ", ".join(r["question"] for r in wrong[:20]) if wrong else ""))
    return 0


def _cmd_grade(args) -> int:
    key = load_key(args.key)
    graded = grade_responses(args.responses, key)
    text = write_gradebook(graded, key, args.output)
    if args.output is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.output}: {len(graded)} learners, {len(key)} questions")
    return 0


def _cmd_build(args) -> int:
    qset = build_set(_bank(args), name=args.name, topics=args.topic, domains=args.domain, ids=args.ids,
                     count=args.count, seed=args.seed)
    export_set(qset, args.output)
    export_key(qset, args.key_output)
    print(f"wrote {args.output} ({len(qset.questions)} questions, no key) and {args.key_output}")
    return 0


def _cmd_stats(args) -> int:
    print(bank_stats(_bank(args)))
    return 0


def _cmd_validate(args) -> int:
    questions = load_questions(args.bank or __import__("sfnlab.quiz.model", fromlist=["x"]).default_bank_dir())
    print(f"OK: {len(questions)} questions are valid")
    return 0


def add_quiz_parser(commands) -> None:
    """Add ``sfnlab quiz`` to the CLI's subparsers."""
    quiz = commands.add_parser("quiz", help="DVA-C02 practice quizzes in the terminal; grade classroom responses",
                               description="Without a subcommand: take a quiz, answering on standard input.")
    quiz.add_argument("--bank", help="quiz file or folder (default: the kit's quizzes/)")
    quiz.add_argument("--topic", action="append", help="only this topic (repeatable)")
    quiz.add_argument("--domain", action="append", help="only this exam domain, e.g. 2 (repeatable)")
    quiz.add_argument("--ids", nargs="+", help="these question ids")
    quiz.add_argument("--exam", action="store_true", help="exam mode: drawn by domain weight, feedback at the end")
    quiz.add_argument("--count", "-n", type=int, help="number of questions (practice 10, exam 65)")
    quiz.add_argument("--seed", type=int, help="repeatable draw and order")
    quiz.add_argument("--set", help="take a set file built by 'sfnlab quiz build' (with its key)")
    quiz.add_argument("--learner", default="me", help="name stored with the answers")
    quiz.add_argument("--no-store", action="store_true", help="do not record the answers")
    sub = quiz.add_subparsers(dest="quiz_command", metavar="SUBCOMMAND")
    g = sub.add_parser("grade", help="grade learners' response files into a CSV gradebook")
    g.add_argument("responses", nargs="+", help="responses files exported by learners")
    g.add_argument("--key", required=True, help="key file from 'sfnlab quiz build', or a quiz file/folder")
    g.add_argument("-o", "--output", help="CSV file to write (default: standard output)")
    b = sub.add_parser("build", help="build a classroom set: a learner file without the key, and the key")
    b.add_argument("--name", required=True)
    b.add_argument("-o", "--output", required=True, help="learner file (no answers)")
    b.add_argument("--key-output", required=True, help="answer key file")
    for p in (b,):
        p.add_argument("--topic", action="append")
        p.add_argument("--domain", action="append")
        p.add_argument("--ids", nargs="+")
        p.add_argument("--count", "-n", type=int)
        p.add_argument("--seed", type=int)
    sub.add_parser("stats", help="counts by domain, task, topic and type; share of proven questions")
    sub.add_parser("validate", help="check every quiz file against the schema and the format rules")
    pr = sub.add_parser("progress", help="your results over time and the questions you got wrong")
    pr.add_argument("--by", choices=["topic", "domain", "day"], default="topic")
    sub.add_parser("review", help="answer the questions due in your spaced-repetition queue")
    quiz.set_defaults(handler=cmd_quiz)
