"""The malloc setting that keeps freed memory for reuse between training steps."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = (
    "import ctypes, platform\n"
    "from neuralpde.training import retain_freed_memory\n"
    "a = retain_freed_memory()\n"
    "print(a, retain_freed_memory() == a, platform.libc_ver()[0])\n"
)


def _run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc setting")
def test_applied_once_on_glibc_and_not_when_asked_not_to():
    r = _run({"NEURALPDE_MALLOC": ""})
    applied, same, libc = r.stdout.split()
    assert same == "True"
    assert applied == str(libc == "glibc")
    r = _run({"NEURALPDE_MALLOC": "system"})
    assert r.stdout.split()[0] == "False"


def test_bad_setting_is_named():
    r = _run({"NEURALPDE_MALLOC": "jemalloc"})
    assert r.returncode != 0
    assert "NEURALPDE_MALLOC must be 'retain' or 'system', got 'jemalloc'" in r.stderr


def test_bad_setting_is_refused_on_every_call():
    """A wrong value is not cached as 'not applied': the second call refuses it too."""
    code = (
        "from neuralpde.training import retain_freed_memory\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        retain_freed_memory()\n"
        "    except ValueError as e:\n"
        "        print('refused', e)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "NEURALPDE_MALLOC": "bogus"},
    )
    assert r.stdout.count("refused NEURALPDE_MALLOC must be") == 2
