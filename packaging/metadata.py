"""The names and version every packaging step uses, read from the source tree.

    python packaging/metadata.py            # all fields, one `key=value` per line
    python packaging/metadata.py version    # one field (version_windows: four numbers)

`pyproject.toml` gives the distribution name and version; `app/__init__.py` gives the
display name and bundle identifier the running app also uses (read with `ast`, so
nothing is imported). build.spec, the installer scripts and the release workflow all
read these, so a version bump is one edit in pyproject.toml.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class AppMetadata:
    name: str  # distribution and executable name: "outpost"
    display_name: str  # what users see: "Outpost"
    version: str  # "0.1.0"
    bundle_id: str  # reverse-DNS id: macOS CFBundleIdentifier, Windows mutex and AppId
    description: str

    @property
    def version_tuple(self) -> tuple[int, int, int, int]:
        """The version as four integers, as Windows version resources need (0.1.0rc1 -> 0, 1, 0, 0)."""
        numbers: list[int] = []
        for part in self.version.split(".")[:4]:
            digits = _leading_digits(part)
            if not digits:
                break
            numbers.append(int(digits))
            if digits != part:  # a pre-release or local suffix ends the numeric part
                break
        return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]


def _leading_digits(text: str) -> str:
    end = 0
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[:end]


def _string_constants(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            constants[node.targets[0].id] = node.value.value
    return constants


def read(root: Path = ROOT) -> AppMetadata:
    """Read the metadata from `root` (the repository checkout)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    constants = _string_constants(root / "app" / "__init__.py")
    return AppMetadata(
        name=project["name"],
        display_name=constants["APP_NAME"],
        version=project["version"],
        bundle_id=constants["APP_ID"],
        description=project.get("description", ""),
    )


def main(argv: list[str]) -> int:
    meta = read()
    fields = asdict(meta)
    fields["version_windows"] = ".".join(map(str, meta.version_tuple))
    if argv:
        if argv[0] not in fields:
            print(f"unknown field {argv[0]!r}; known: {', '.join(fields)}", file=sys.stderr)
            return 2
        print(fields[argv[0]])
        return 0
    for key, value in fields.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
