"""Order reports for the shop."""

from shoplib import format_cents

__version__ = "1.0.0"


def summary(count: int, total_cents: int) -> dict:
    return {"orders": count, "total": format_cents(total_cents)}
