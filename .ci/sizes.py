"""House rule from issue 8: no module over 400 lines, no function over 80 (migrations aside).

Run by .ci/run; prints each offender and exits 1, so a growing module is split when it grows,
not in a clean-up later.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if (lines := text.count("\n")) > MAX_MODULE_LINES:
            found.append(f"{path}: {lines} lines (module limit {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(
                        f"{path}:{node.lineno} {node.name}: {length} lines "
                        f"(function limit {MAX_FUNCTION_LINES})"
                    )
    return found


if __name__ == "__main__":
    problems = offenders(Path(sys.argv[1] if len(sys.argv) > 1 else "governance_pipelines"))
    print("\n".join(problems) or "module and function sizes within the house limits")
    sys.exit(1 if problems else 0)
