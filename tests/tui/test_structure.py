"""The console's import graph: no module of tui/ imports, even indirectly, a module that imports it.

Screens are given what they need and post messages up (tui.messages), so nothing below the app needs the
app; the layers themselves are an import-linter contract in pyproject.toml.
"""

from __future__ import annotations

import grimp


def test_no_import_cycle_in_the_console() -> None:
    graph = grimp.build_graph("tui")
    cycles = [
        (importer, imported, chain)
        for importer in sorted(m for m in graph.modules if m.startswith("tui"))
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if imported.startswith("tui")
        and (chain := graph.find_shortest_chain(importer=imported, imported=importer)) is not None
    ]
    assert cycles == []
    assert graph.find_modules_that_directly_import("tui.app") == {"tui"}, "only the package's lazy names"
