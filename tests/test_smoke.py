"""docs/specification.md §6's worked example, end to end through the public API."""

from decimal import Decimal

from helpers import claim, settle


def test_domain_worked_example_benxi_low_income_margin(benxi_engine):
    # 低保边缘家庭成员, 基本救助: deductible 2,000, 60%, cap 20,000 (Benxi §(五)).
    # Upstream lines leave burdens of 15,000, 10,000 and 20,000.
    results = settle(
        benxi_engine,
        claim("a", "p", "2023-01-10", ["低保边缘家庭成员"], "25000.00",
              {"基本医保": "10000.00", "大病保险": "0.00"}),
        claim("b", "p", "2023-02-10", ["低保边缘家庭成员"], "20000.00",
              {"基本医保": "10000.00", "大病保险": "0.00"}),
        claim("c", "p", "2023-03-10", ["低保边缘家庭成员"], "30000.00",
              {"基本医保": "10000.00", "大病保险": "0.00"}),
    )
    assert [r.payout("基本救助") for r in results] == [
        Decimal("7800.00"), Decimal("6000.00"), Decimal("6200.00")]
