"""bench/profile_build.py sums its areas by module path and function name: each must still exist.

After a package's modules move, an area that names the old path matches nothing and reads 0%
(the litnotes areas did, after tools/litnotes was split into records/, site/, math/, engines/).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import profile_build  # noqa: E402


def _file(fragment: str) -> Path:
    package, _, rest = fragment.strip("/").partition("/")
    if package == "litnotes":
        return ROOT / "tools" / "litnotes" / rest
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin, f"{package} is not installed"
    return Path(spec.origin).parent / rest


@pytest.mark.parametrize(("label", "fragment", "name"), profile_build.AREAS, ids=[a[0].strip() for a in profile_build.AREAS])
def test_each_area_names_a_module_and_function_that_exist(label: str, fragment: str, name: str | None) -> None:
    path = _file(fragment)
    assert path.exists(), f"{label}: {fragment} is no module any more ({path})"
    if name is not None:
        assert re.search(rf"^\s*(?:def|class) {re.escape(name)}\b", path.read_text(encoding="utf-8"), re.M), (
            f"{label}: {fragment} has no function {name}")
