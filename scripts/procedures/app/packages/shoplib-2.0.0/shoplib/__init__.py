"""Money amounts for the shop. 2.0 replaces format_cents with Money (a breaking change)."""

from dataclasses import dataclass

__version__ = "2.0.0"


@dataclass(frozen=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        cents = abs(self.cents)
        return f"{sign}{cents // 100:,}.{cents % 100:02d} {self.currency}"
