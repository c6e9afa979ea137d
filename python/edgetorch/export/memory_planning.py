"""Memory planning: place every planned tensor at an offset in one arena.

Input: blocks with a byte size and a lifetime ``[first, last]`` in positions
(0 = inputs are set, i+1 = instruction i runs, N+1 = outputs are read).  Two
blocks may share bytes only if their lifetimes are disjoint; lifetimes that
touch at one position conflict, because a kernel's inputs and outputs are all
live while it runs (the emitter has already merged the in-place pairs where
sharing is safe).  Lifetimes are measured in the linear instruction order,
which is a safe over-approximation for forward jumps (cond branches): every
executed path is a subsequence of that order.

Algorithms:

* ``naive``: every block gets its own bytes.
* ``greedy``: the shared-object scheme upstream ExecuTorch uses by default
  (blocks in decreasing size; each joins the first object whose blocks it
  does not overlap in time, else is stacked inside an object above the blocks
  it overlaps, else opens a new object; object sizes add up).
* ``edgetorch``: lifetime-aware offset packing.  For several orderings of the
  blocks (by size, by lifetime length, by area, by start, peak-first) it
  places each block at the lowest (first-fit) or tightest (best-fit) gap of
  the address space free during its whole lifetime, then refines the best
  ordering by seeded random swaps.  It stops early when it reaches the lower
  bound (the largest total of bytes live at one position), and never returns
  more than the greedy plan (it keeps whichever is smaller).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..pte import schema as S


def align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass
class Block:
    key: int              # caller's id
    size: int             # bytes, already aligned
    first: int
    last: int

    def overlaps(self, o: "Block") -> bool:
        return self.first <= o.last and o.first <= self.last


@dataclass
class PlanResult:
    algorithm: str
    total: int
    offsets: Dict[int, int]
    lower_bound: int
    tried: int = 1


def lower_bound(blocks: Sequence[Block]) -> int:
    if not blocks:
        return 0
    events: Dict[int, int] = {}
    for b in blocks:
        events[b.first] = events.get(b.first, 0) + b.size
        events[b.last + 1] = events.get(b.last + 1, 0) - b.size
    cur = best = 0
    for pos in sorted(events):
        cur += events[pos]
        best = max(best, cur)
    return best


def check(blocks: Sequence[Block], offsets: Dict[int, int], alignment: int = 1) -> None:
    """Raise if two blocks live at the same time share bytes, or misalign."""
    bl = sorted(blocks, key=lambda b: offsets[b.key])
    for i, a in enumerate(bl):
        oa = offsets[a.key]
        if oa % alignment:
            raise AssertionError(f"block {a.key} at misaligned offset {oa}")
        for b in bl[i + 1:]:
            ob = offsets[b.key]
            if ob >= oa + a.size:
                break
            if a.overlaps(b) and a.size and b.size:
                raise AssertionError(
                    f"blocks {a.key} [{a.first},{a.last}]@{oa}+{a.size} and "
                    f"{b.key} [{b.first},{b.last}]@{ob}+{b.size} overlap")


# ---------------------------------------------------------------------------


def naive(blocks: Sequence[Block]) -> PlanResult:
    off, offsets = 0, {}
    for b in blocks:
        offsets[b.key] = off
        off += b.size
    return PlanResult("naive", off, offsets, lower_bound(blocks))


def greedy(blocks: Sequence[Block]) -> PlanResult:
    """Shared objects, as upstream's default planner does it."""
    objects: List[dict] = []  # {"size", "allocs": [(offset, block)]}
    where: Dict[int, Tuple[int, int]] = {}
    for b in sorted(blocks, key=lambda b: -b.size):
        placed = False
        for oi, obj in enumerate(objects):
            if all(not b.overlaps(a) for _, a in obj["allocs"]):
                obj["allocs"].append((0, b))
                where[b.key] = (oi, 0)
                placed = True
                break
        if not placed:
            for oi, obj in enumerate(objects):
                top = max((o + a.size for o, a in obj["allocs"] if b.overlaps(a)), default=0)
                if top > 0 and top + b.size <= obj["size"]:
                    obj["allocs"].append((top, b))
                    where[b.key] = (oi, top)
                    placed = True
                    break
        if not placed:
            objects.append({"size": b.size, "allocs": [(0, b)]})
            where[b.key] = (len(objects) - 1, 0)
    bases, total = [], 0
    for obj in objects:
        bases.append(total)
        total += obj["size"]
    offsets = {k: bases[oi] + o for k, (oi, o) in where.items()}
    return PlanResult("greedy", total, offsets, lower_bound(blocks))


def _pack(order: Sequence[Block], best_fit: bool) -> Tuple[int, Dict[int, int]]:
    placed: List[Tuple[int, int, Block]] = []  # (offset, end, block)
    offsets: Dict[int, int] = {}
    total = 0
    for b in order:
        busy = sorted((o, e) for o, e, p in placed if p.overlaps(b))
        cur, choice, slack = 0, None, None
        for s, e in busy:
            if s - cur >= b.size:
                if not best_fit:
                    choice = cur
                    break
                if slack is None or s - cur - b.size < slack:
                    slack, choice = s - cur - b.size, cur
            cur = max(cur, e)
        if choice is None:
            choice = cur
        offsets[b.key] = choice
        placed.append((choice, choice + b.size, b))
        total = max(total, choice + b.size)
    return total, offsets


def _orderings(blocks: Sequence[Block]) -> List[Tuple[str, List[Block]]]:
    bl = list(blocks)
    if not bl:
        return [("empty", [])]
    # position of peak pressure
    events: Dict[int, int] = {}
    for b in bl:
        events[b.first] = events.get(b.first, 0) + b.size
        events[b.last + 1] = events.get(b.last + 1, 0) - b.size
    cur, peak, peak_pos = 0, -1, 0
    for pos in sorted(events):
        cur += events[pos]
        if cur > peak:
            peak, peak_pos = cur, pos
    at_peak = lambda b: b.first <= peak_pos <= b.last  # noqa: E731
    return [
        ("size", sorted(bl, key=lambda b: (-b.size, b.first, b.key))),
        ("length", sorted(bl, key=lambda b: (-(b.last - b.first), -b.size, b.key))),
        ("area", sorted(bl, key=lambda b: (-(b.size * (b.last - b.first + 1)), b.key))),
        ("start", sorted(bl, key=lambda b: (b.first, -b.size, b.key))),
        ("peak", sorted(bl, key=lambda b: (not at_peak(b), -b.size, b.first, b.key))),
        ("end", sorted(bl, key=lambda b: (-b.last, -b.size, b.key))),
    ]


def edgetorch(blocks: Sequence[Block], *, time_budget: float = 1.0,
              seed: int = 0) -> PlanResult:
    lb = lower_bound(blocks)
    best: Optional[Tuple[int, Dict[int, int], List[Block], bool]] = None
    tried = 0
    for _, order in _orderings(blocks):
        for bf in (False, True):
            tried += 1
            total, offs = _pack(order, bf)
            if best is None or total < best[0]:
                best = (total, offs, order, bf)
            if best[0] <= lb:
                break
        if best[0] <= lb:
            break
    # refine: random swaps of the best ordering
    rng = random.Random(seed)
    deadline = time.monotonic() + time_budget
    total, offs, order, bf = best
    n = len(order)
    iters = 0
    while total > lb and n > 1 and time.monotonic() < deadline and iters < 4000:
        iters += 1
        cand = list(order)
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j:
            continue
        if rng.random() < 0.5:
            cand[i], cand[j] = cand[j], cand[i]
        else:
            cand.insert(j, cand.pop(i))
        t2, o2 = _pack(cand, bf)
        tried += 1
        if t2 <= total:
            total, offs, order = t2, o2, cand
    # never worse than upstream's scheme
    g = greedy(blocks)
    if g.total < total:
        total, offs = g.total, g.offsets
    return PlanResult("edgetorch", total, offs, lb, tried)


ALGORITHMS: Dict[str, Callable[[Sequence[Block]], PlanResult]] = {
    "naive": naive, "greedy": greedy, "edgetorch": edgetorch,
}


def plan_blocks(blocks: Sequence[Block], algorithm: str) -> PlanResult:
    res = ALGORITHMS[algorithm](blocks)
    check(blocks, res.offsets)
    return res


# ---------------------------------------------------------------------------
# planned storage (built by the emitter) and its lifetimes


@dataclass(eq=False)
class Storage:
    """A block of planned memory shared by one or more tensor values."""

    id: int
    nbytes: int
    name: str
    kind: str = "activation"      # activation | input | output | buffer
    persistent: bool = False      # mutable buffer: lives across calls
    planned: bool = True
    first: Optional[int] = None   # lifetime in positions (0 = set_input,
    last: Optional[int] = None    # i+1 = instruction i, N+1 = read outputs)
    offset: Optional[int] = None
    parent: Optional["Storage"] = None
    values: List[int] = field(default_factory=list)
    ops: List[str] = field(default_factory=list)  # kernels that write it

    def find(self) -> "Storage":
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    def touch(self, pos: int) -> None:
        self.first = pos if self.first is None else min(self.first, pos)
        self.last = pos if self.last is None else max(self.last, pos)


def merge(keep: Storage, other: Storage) -> Storage:
    a, b = keep.find(), other.find()
    if a is b:
        return a
    b.parent = a
    a.nbytes = max(a.nbytes, b.nbytes)
    a.persistent = a.persistent or b.persistent
    a.planned = a.planned and b.planned
    if b.kind in ("output", "buffer", "input") and a.kind == "activation":
        a.kind = b.kind
    return a


def lifetimes(storages: List[Storage], storage_of: Dict[int, Storage], values: Sequence[Any],
              inputs: Sequence[int], instructions: Sequence[Any], outputs: Sequence[int],
              inplace_pairs: Sequence[Tuple[int, int, int, List[int]]]) -> List[Storage]:
    """Each root storage's lifetime in positions (see the module doc), from the
    emitted instructions: inputs live from 0, outputs to N+1, mutable buffers
    throughout.  Then the in-place pairs (an elementwise kernel's output and
    the input that dies at that kernel, same size) are merged into one
    storage.  Returns the root storages."""
    n_instr = len(instructions)
    end = n_instr + 1

    def touch(idx: int, pos: int) -> None:
        st = storage_of.get(idx)
        if st is not None:
            st.find().touch(pos)
        v = values[idx].val
        if isinstance(v, (S.TensorList, S.OptionalTensorList)):
            for it in v.items:
                if it >= 0:
                    touch(it, pos)

    for i in inputs:
        touch(i, 0)
    for i, ins in enumerate(instructions):
        a = ins.instr_args
        if isinstance(a, (S.KernelCall, S.DelegateCall)):
            for idx in a.args:
                touch(idx, i + 1)
        elif isinstance(a, S.JumpFalseCall):
            touch(a.cond_value_index, i + 1)
    for o in outputs:
        touch(o, end)
    for st in storages:
        r = st.find()
        if r.persistent:
            r.touch(0)
            r.touch(end)
        if r.first is None:  # never referenced: give it a point lifetime
            r.touch(0)
    # in-place: an elementwise output takes its dying input's bytes
    for ii, a, o, others in inplace_pairs:
        sa, so = storage_of[a].find(), storage_of[o].find()
        if sa is so or sa.persistent or so.persistent or not (sa.planned and so.planned):
            continue
        if any(storage_of[b].find() is sa for b in others):
            continue  # another operand reads the same bytes in another shape
        if sa.last == ii + 1 and so.first == ii + 1 and sa.nbytes == so.nbytes \
                and sa.kind in ("activation", "input") and so.kind in ("activation",
                                                                       "output"):
            first, last = sa.first, so.last
            r = merge(sa, so)
            if so.kind == "output":
                r.kind = "output"
            r.first, r.last = first, last
    roots = []
    seen = set()
    for st in storages:
        r = st.find()
        if id(r) not in seen:
            seen.add(id(r))
            roots.append(r)
    return roots


# ---------------------------------------------------------------------------
# the report


@dataclass
class PlannedTensor:
    name: str
    kind: str          # activation | input | output | buffer
    nbytes: int        # bytes reserved (aligned)
    first: int         # lifetime in positions (see module doc)
    last: int
    offset: int
    values: List[int] = field(default_factory=list)
    ops: List[str] = field(default_factory=list)


@dataclass
class MethodMemoryPlan:
    method: str
    algorithm: str
    total_bytes: int
    lower_bound: int
    num_instructions: int
    tensors: List[PlannedTensor]
    instructions: List[str]
    alternatives: Dict[str, int] = field(default_factory=dict)

    @property
    def peak_bytes(self) -> int:
        return self.total_bytes

    def to_dict(self) -> dict:
        return {
            "method": self.method, "algorithm": self.algorithm,
            "total_bytes": self.total_bytes, "lower_bound": self.lower_bound,
            "num_instructions": self.num_instructions, "alternatives": self.alternatives,
            "tensors": [t.__dict__ for t in self.tensors],
        }

    def table(self, limit: int = 50) -> str:
        lines = [f"method {self.method}: {self.total_bytes} planned bytes "
                 f"({self.algorithm}; lower bound {self.lower_bound}; "
                 + ", ".join(f"{k} {v}" for k, v in self.alternatives.items()) + ")",
                 f"  {'offset':>10} {'bytes':>10} {'lifetime':>13}  kind        tensor"]
        for t in sorted(self.tensors, key=lambda t: (t.offset, t.first))[:limit]:
            lines.append(f"  {t.offset:>10} {t.nbytes:>10} {f'[{t.first},{t.last}]':>13}  "
                         f"{t.kind:<10}  {t.name}")
        if len(self.tensors) > limit:
            lines.append(f"  ... {len(self.tensors) - limit} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
