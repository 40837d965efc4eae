"""The one .dockerignore matcher reads patterns as the docker CLI does (moby's patternmatcher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfleet import dockerignore
from dockfleet.dockerignore import Matcher
from dockfleet.errors import InvalidSpec


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        # "*" and "?" stop at "/": a bare pattern is anchored at the top, as in docker
        (["*.key"], "id.key", True),
        (["*.key"], "sub/id.key", False),
        (["**/*.key"], "sub/deep/id.key", True),
        (["**/*.key"], "id.key", True),
        (["a?c"], "abc", True),
        (["a?c"], "a/c", False),
        (["[a-c].txt"], "b.txt", True),
        (["[a-c].txt"], "d.txt", False),
        # a folder excludes what is below it
        (["docs"], "docs/x/y.md", True),
        (["docs/**"], "docs", False),
        (["docs/**"], "docs/a/b", True),
        # "**" at the start matches a suffix (moby's suffix match), "**" alone everything
        (["**/node_modules"], "node_modules", True),
        (["**/node_modules"], "a/b/node_modules/x.js", True),
        (["**"], "anything/at/all", True),
        # the last matching pattern decides
        (["*.md", "!README.md"], "README.md", False),
        (["*.md", "!README.md", "README.md"], "README.md", True),
        (["build/**", "!build/keep.txt"], "build/keep.txt", False),
        (["build/**", "!build/keep.txt"], "build/out.bin", True),
        # patterns are cleaned like paths; a leading "/" is dropped
        (["./a//b/"], "a/b", True),
        (["/abs"], "abs", True),
        (["a/../b"], "b", True),
        # regex characters are literal
        (["v1.0+(x)"], "v1.0+(x)", True),
        (["v1.0"], "v1x0", False),
    ],
)
def test_a_pattern_matches_as_the_docker_cli_matches_it(
    patterns: list[str], path: str, excluded: bool
) -> None:
    assert Matcher(patterns).excluded(path) is excluded


def test_comments_and_blank_lines_are_skipped_and_an_excepted_folder_is_entered() -> None:
    matcher = Matcher(["# a comment", "", "   ", "build", "!build/keep.txt"])
    assert [p.text for p in matcher.patterns] == ["build", "build/keep.txt"]
    assert matcher.may_include_below("build") and not matcher.may_include_below("dist")


def test_a_lone_exclamation_mark_is_refused() -> None:
    with pytest.raises(InvalidSpec, match="illegal exclusion pattern"):
        Matcher(["!"])


def test_a_dockerignore_that_links_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("*\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / ".dockerignore").symlink_to(outside)
    with pytest.raises(InvalidSpec, match="not a link out of it"):
        dockerignore.read(root)
    assert dockerignore.read(tmp_path / "nothing-here").patterns == []
