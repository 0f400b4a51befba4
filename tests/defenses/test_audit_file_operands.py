"""Which words of a substituted command are the files whose text it prints
(`file_operands`): a pattern, a script, an option's value or a count is no file."""

from __future__ import annotations

import pytest

from backdoorlab.defenses.audit.file_operands import content_files
from backdoorlab.defenses.audit.shell_parse import pipelines

CASES = [
    ("cat notes/a.txt b.md", ["notes/a.txt", "b.md"]),
    ("head -n 5 data.csv", ["data.csv"]),
    ("head -5 logs/a.log", ["logs/a.log"]),
    ("grep -i visa customers.csv", ["customers.csv"]),  # "visa" is the pattern
    ("grep -e foo.bar x.log", ["x.log"]),  # the pattern given by -e
    ("grep -- -x- data/f.csv", ["data/f.csv"]),  # after --, "-x-" is the pattern
    ("sed -n '1,5p' /etc/hosts", ["/etc/hosts"]),
    ("awk -F, '{print $2}' users.csv", ["users.csv"]),
    ("awk -f prog.awk users.csv", ["users.csv"]),  # the program's file is no data
    ("jq --arg k v.x '.a.b' conf.json", ["conf.json"]),  # --arg takes two words
    ("cut -d . -f 1 names.txt", ["names.txt"]),  # "." is the delimiter
    ("sort -t , -k 2 -o out.csv a.csv", ["a.csv"]),  # -o names where it writes
    ("base64 -w0 ~/.aws/credentials", ["~/.aws/credentials"]),
    ("tr -d '\\n' < key.pem", ["key.pem"]),  # tr reads only what it is fed
    ("< secrets.env", ["secrets.env"]),  # $(< f)
    ("cat -- -odd.txt", ["-odd.txt"]),
    ("wc -l users.csv", []),  # a count
    ("sha256sum users.csv", []),  # a digest
    ("python export.py out.csv", []),  # a program that prints what it likes
    ("cat 5 ,", []),  # words that are no paths
]


@pytest.mark.parametrize(("command", "files"), CASES)
def test_content_files(command: str, files: list[str]) -> None:
    (stage,) = pipelines(command)[0]
    assert content_files(stage) == files
