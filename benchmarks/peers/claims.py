"""The benchmark's claims as plain arrays, for the peers.

The peers model Benxi's 基本救助 and 倾斜救助 only, the way their users would:
each claim's identity is the best one it holds in the notice's order
(特困人员, 孤儿, 低保对象, 低保边缘家庭成员, 因病致贫重病患者, after §(六)'s
"treated as"), fixed before the year-to-date arithmetic.  yibao instead settles
take highest per claim against the actual year-to-date figures; where the two
differ, the peers' results differ, and the benchmark counts it.
"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# §(五) by identity: (基本救助 deductible, rate, cap), (倾斜救助 deductible, rate, cap); None: no cap.
IDENTITIES = ("特困人员", "孤儿", "低保对象", "低保边缘家庭成员", "因病致贫重病患者")
TREATED_AS = {"返贫致贫人口": "低保对象", "监测帮扶对象": "低保对象",
              "其他监测范围内人口": "低保边缘家庭成员"}
BASIC = {"特困人员": (0, "0.7", 20000), "孤儿": (0, "0.7", 20000), "低保对象": (0, "0.7", 20000),
         "低保边缘家庭成员": (2000, "0.6", 20000), "因病致贫重病患者": (5000, "0.5", 20000)}
TILT = {"特困人员": (0, "1", None), "孤儿": (0, "1", None), "低保对象": (3000, "0.7", None),
        "低保边缘家庭成员": (3000, "0.6", None), "因病致贫重病患者": (10000, "0.5", 20000)}
COVERED_VISITS = ("住院", "门诊慢特病")


@attrs.frozen
class ClaimArrays:
    index: np.ndarray        # position in the file
    person_year: np.ndarray  # int64 group
    order: np.ndarray        # int64, date order then file order
    identity: np.ndarray     # int8: index into IDENTITIES, -1 none
    covered: np.ndarray      # bool: 住院/门诊慢特病, in province or referred (§(四), §(十三))
    burden: np.ndarray       # float64 yuan: in-scope cost − 基本医保 − 大病保险


def load(path: str, refused: np.ndarray | None = None) -> ClaimArrays:
    """Read the claims Parquet; ``refused`` (bool by position) drops claims yibao refuses."""
    table = pq.read_table(path)
    count = table.num_rows
    names = table.column("identities").combine_chunks()
    flat = pc.list_flatten(names).to_pylist()
    order = {name: i for i, name in enumerate(IDENTITIES)}
    codes = np.array([order.get(TREATED_AS.get(n, n), 99) for n in flat], dtype=np.int16)
    parents = pc.list_parent_indices(names).to_numpy()
    best = np.full(count, 99, dtype=np.int16)
    np.minimum.at(best, parents, codes)
    identity = np.where(best == 99, -1, best).astype(np.int8)
    visit = table.column("visit")
    in_province = pc.fill_null(table.column("in_province"), True).to_numpy(zero_copy_only=False)
    referred = pc.fill_null(table.column("referred"), False).to_numpy(zero_copy_only=False)
    covered = pc.is_in(visit, pa.array(COVERED_VISITS)).to_numpy(zero_copy_only=False) & (
        in_province | referred)
    money = [pc.cast(table.column(c), pa.float64()).to_numpy(zero_copy_only=False)
             for c in ("in_scope_cost", "paid.基本医保", "paid.大病保险")]
    burden = money[0] - money[1] - money[2]
    dates = pc.cast(table.column("date"), pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    years = pc.year(table.column("date")).to_numpy(zero_copy_only=False).astype(np.int64)
    people = pc.dictionary_encode(table.column("person_id")).combine_chunks().indices.to_numpy()
    index = np.arange(count, dtype=np.int64)
    arrays = ClaimArrays(index, people.astype(np.int64) * 10_000 + years, dates * count + index,
                         identity, covered, burden)
    if refused is None:
        return arrays
    keep = ~refused
    return ClaimArrays(*(getattr(arrays, f.name)[keep] for f in attrs.fields(ClaimArrays)))
