"""Money amounts for the shop."""

__version__ = "1.1.0"


def format_cents(cents: int, currency: str = "EUR") -> str:
    """12345 -> '123.45 EUR'; 1.1 adds thousands separators: 1234567 -> '12,345.67 EUR'."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d} {currency}"
