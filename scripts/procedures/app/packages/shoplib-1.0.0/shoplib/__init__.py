"""Money amounts for the shop."""

__version__ = "1.0.0"


def format_cents(cents: int, currency: str = "EUR") -> str:
    """12345 -> '123.45 EUR'."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}"
