"""Secret values never reach a copied log: whole, line by line, or across the engine's
16-KiB cuts, framed or TTY; and the label that names them holds any name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dockfleet import labels as fleet_labels
from dockfleet.models import ContainerConfig
from dockfleet.policy_model import SecurityPolicy
from worker.engine.convert import container_info, create_arguments
from worker.engine.logs import PARTIAL_BYTES, FrameSplitter, Line, TtySplitter
from worker.ops.masking import MASK, MIN_FRAGMENT, SecretMask, needles, secret_values

STAMP0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
#: what a secret and a log may hold (no newline here: lines are made apart)
TEXT = st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r\x00")
secret_lines = st.text(TEXT, min_size=1, max_size=40).filter(str.strip)
#: where a secret starts in its line: at the start, anywhere, or at a 16-KiB cut
offsets = st.one_of(
    st.integers(0, 64),
    st.integers(PARTIAL_BYTES - 48, PARTIAL_BYTES + 2),
    st.integers(2 * PARTIAL_BYTES - 48, 2 * PARTIAL_BYTES + 2),
)


def messages(log: str) -> list[bytes]:
    """The engine's log messages for `log`: one a line, a long line cut every 16 KiB."""
    out = []
    for line in log.encode().split(b"\n"):
        data = line + b"\n"
        while len(data) > PARTIAL_BYTES:
            out.append(data[:PARTIAL_BYTES])
            data = data[PARTIAL_BYTES:]
        out.append(data)
    return out


def stamped(index: int, message: bytes) -> bytes:
    stamp = STAMP0 + timedelta(microseconds=index)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + b"123Z " + message


def read_framed(log: str) -> list[Line]:
    splitter = FrameSplitter()
    lines = [
        line for i, m in enumerate(messages(log)) for line in splitter.feed("stdout", stamped(i, m))
    ]
    return lines + list(splitter.rest())


def read_tty(log: str, cuts: list[int]) -> list[Line]:
    """A TTY log as the engine streams it, arriving in pieces cut at `cuts`."""
    raw = b"".join(stamped(i, m) for i, m in enumerate(messages(log)))
    points = sorted({0, *(c % (len(raw) + 1) for c in cuts), len(raw)})
    splitter = TtySplitter()
    lines = [
        line
        for start, end in zip(points, points[1:], strict=False)
        for line in splitter.feed("stdout", raw[start:end])
    ]
    return lines + list(splitter.rest())


def copied(log: str, secrets: list[str], cuts: list[int] | None) -> str:
    """The log as the worker copies it: read (framed, or TTY in pieces), then masked; it
    must be the log's own lines, each masked (no cut or timestamp left inside a line)."""
    lines = read_framed(log) if cuts is None else read_tty(log, cuts)
    mask = SecretMask(secrets)
    text = "\n".join(mask(text) for _, text, _ in lines)
    assert text == "\n".join(mask(line) for line in log.split("\n"))
    return text


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(TEXT, min_size=1, max_size=40).filter(str.strip),
    before=offsets,
    after=st.text(TEXT, max_size=20),
    cuts=st.one_of(st.none(), st.lists(st.integers(0, 3 * PARTIAL_BYTES), max_size=6)),
)
@example(secret="ab***", before=0, after="", cuts=None)
def test_a_secret_never_appears_in_the_copied_log_wherever_the_engine_cuts_it(
    secret: str, before: int, after: str, cuts: list[int] | None
) -> None:
    # Given a log line holding the secret anywhere, a 16-KiB cut inside it included
    log = f"start\n{'x' * before}{secret}{after}\nend"

    # When it is read framed, or as a TTY stream arriving in any pieces, and masked
    text = copied(log, [secret], cuts)

    # Then the line came out whole (checked in `copied`), and the secret masked in it
    assert secret not in text


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(secret_lines, min_size=2, max_size=5),
    before=offsets,
    cuts=st.one_of(st.none(), st.lists(st.integers(0, 3 * PARTIAL_BYTES), max_size=6)),
)
def test_a_multi_line_secret_is_masked_line_by_line(
    parts: list[str], before: int, cuts: list[int] | None
) -> None:
    # Given a secret of several lines, at least one of them long enough to mask
    assume(any(len(p.strip()) >= MIN_FRAGMENT for p in parts))
    secret = "\n".join(parts)

    # When a program prints it (after any text) and its log is copied
    text = copied(f"{'x' * before}{secret}\ndone", [secret], cuts)

    # Then neither the secret nor any of its long lines is in the copy
    assert secret not in text
    assert not any(p.strip() in text for p in parts if len(p.strip()) >= MIN_FRAGMENT)
    assert text.endswith("\ndone")


def test_short_lines_of_a_multi_line_secret_are_left_alone() -> None:
    # Given a JSON credential: its braces and a "1" would mask half of any log
    secret = '{\n  "id": 1,\n  "key": "k3y-4bcdef"\n}'
    mask = SecretMask([secret])

    assert mask('  "key": "k3y-4bcdef"') == f"  {MASK}"
    assert mask("}") == "}" and mask("1 passed") == "1 passed"
    assert needles(secret) == ['"id": 1,', '"key": "k3y-4bcdef"']


def test_a_one_line_secret_is_masked_whatever_its_length_a_trailing_newline_too() -> None:
    assert SecretMask(["pw"])("login pw ok") == f"login {MASK} ok"
    assert SecretMask(["pw\n"])("login pw ok") == f"login {MASK} ok"
    assert SecretMask(["  ", "\n\n"])("a  b") == "a  b"  # blank: nothing to mask


def test_overlapping_secrets_are_masked_as_one() -> None:
    mask = SecretMask(["abcd", "cdef"])
    assert mask("xxabcdefyy") == f"xx{MASK}yy"


def test_a_tty_log_read_in_pieces_keeps_no_timestamp_in_its_lines() -> None:
    # Given many short TTY messages arriving several to a read (the engine's stream)
    raw = b"".join(stamped(i, f"line{i}\r\n".encode()) for i in range(50))
    splitter = TtySplitter()
    lines = [
        line for at in range(0, len(raw), 1000) for line in splitter.feed("s", raw[at:][:1000])
    ]

    # Then each line is its text alone, with its own time
    assert [text for _, text, _ in lines] == [f"line{i}" for i in range(50)]
    assert lines[3][2] == STAMP0 + timedelta(microseconds=3)


def test_a_long_line_keeps_the_time_of_its_first_part() -> None:
    lines = read_framed("y" * (2 * PARTIAL_BYTES + 10))
    assert [(len(text), stamp) for _, text, stamp in lines] == [(2 * PARTIAL_BYTES + 10, STAMP0)]


@given(
    names=st.sets(
        st.text(
            st.characters(blacklist_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=12
        ).filter(lambda n: "=" not in n and n.strip() == n),
        min_size=1,
        max_size=4,
    )
)
def test_the_secret_env_label_names_any_variable_commas_included(names: set[str]) -> None:
    # Given secret variables with any names (a comma, brackets, quotes...)
    config = ContainerConfig(image="busybox", secret_env={n: f"v-{n}" for n in names})
    labels = create_arguments(config, SecurityPolicy(), {}, user="65534:65534")["labels"]

    # Then the label gives the names back, and an inspect of the container masks each
    assert fleet_labels.secret_env_keys(labels) == names
    doc = {"Id": "c1", "Config": {"Labels": labels, "Env": [f"{n}=v-{n}" for n in names]}}
    assert sorted(secret_values(doc)) == sorted(f"v-{n}" for n in names)
    assert all(item.endswith(f"={MASK}") for item in container_info(doc, "h").env)


def test_a_label_written_before_the_json_form_is_still_read() -> None:
    assert fleet_labels.secret_env_keys({fleet_labels.SECRET_ENV: "A,B"}) == {"A", "B"}
