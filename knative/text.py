"""How the tool writes for an operator: percents, and tables with aligned columns."""


def percent(share: float, digits: int = 0) -> str:
    """0.125 -> ``12.5 %`` (with ``digits=1``), as the rest of the tool writes percents."""
    return f"{share * 100:.{digits}f} %"


def aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows`` as lines, every column but the last padded to its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]])
            for row in rows]  # fmt: skip
