"""``import neuralpde``, ``neuralpde --version`` and ``--help`` answer without loading PyTorch;
the package's names load on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import neuralpde as npde


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "argv", [["--version"], ["--help"], ["solve", "--help"], ["reference", "--help"]]
)
def test_version_and_help_do_not_load_torch(argv):
    code = (
        "import contextlib, io\nfrom neuralpde.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        main({argv!r})\n"
        "    except SystemExit as e:\n        assert e.code == 0\n"
    )
    assert "torch" not in _modules_after(code)


def test_importing_the_package_loads_torch_only_when_a_name_needs_it():
    assert "torch" not in _modules_after("import neuralpde")
    assert "torch" in _modules_after("import neuralpde\nneuralpde.Problem")


def test_every_public_name_resolves_and_a_wrong_one_says_so():
    for name in npde.__all__:
        assert getattr(npde, name) is not None, name
    assert set(npde.__all__) <= set(dir(npde))
    assert npde.metrics.relative_l2 is not None  # a submodule, as after importing it
    with pytest.raises(AttributeError, match="has no attribute 'Sovle'"):
        npde.Sovle  # noqa: B018
