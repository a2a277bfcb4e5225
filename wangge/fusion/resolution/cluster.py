"""Match edges → clusters, honouring human decisions and ID conflicts.

Nodes are integers 0..n-1 and a group is labelled by its smallest node; the
caller numbers them so that this names the cluster (records in record_id
order, so the label is the smallest record_id; in incremental linking the
existing clusters first, so a group that joined one keeps its id).

Plain connected components would let one strong-looking false edge chain two
people together, and would silently override a reviewer's "not the same
person". So clustering is greedy, strongest edge first (Kruskal), with two
kinds of constraint checked whenever two groups would merge:

- cannot-link: a pair a reviewer separated never ends up in one group, even
  through a path of other records. The edge that would close such a path is
  skipped; since edges come strongest first, what gets cut is always the
  weakest link on the path between the two records.
- identity: a group never holds two different valid ID numbers (a valid ID
  cannot be a typo of another: the check digit catches every single wrong or
  swapped digit). A record without an ID that resembles two people joins the
  one it matches more strongly.

Must-link edges rank above every scored edge, so a reviewer's "same person"
merges first; it overrides the identity rule (the reviewer has seen both IDs)
but never a cannot-link.

Most components have no conflict at all; only those are re-clustered in
Python, the rest are labelled with vectorised union–find.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MUST = 2.0  # weight of a must-link edge: above any probability


@dataclass
class Graph:
    """Match edges between n nodes, and the constraints on grouping them."""

    n: int
    left: np.ndarray  # int64 node of each edge
    right: np.ndarray
    weight: np.ndarray  # float64: match probability, MUST for must-links
    # The valid ID numbers each node holds, as (node, code) pairs: a record
    # holds at most one, an existing cluster in incremental linking may hold
    # several that a reviewer merged.
    id_nodes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    id_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    cannot: list[tuple[int, int]] = field(default_factory=list)
    # Nodes that must stay apart whatever the edges say, as groups: used by
    # incremental linking, where each existing cluster is one node and two
    # existing clusters are never merged.
    fixed: np.ndarray | None = None  # bool per node


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Label of each node = smallest node of its connected component."""
    parent = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return parent
    u, v = left.astype(np.int64), right.astype(np.int64)
    while True:
        pu, pv = parent[u], parent[v]
        lo, hi = np.minimum(pu, pv), np.maximum(pu, pv)
        moving = lo != hi
        if not moving.any():
            return parent
        np.minimum.at(parent, hi[moving], lo[moving])
        parent = _compress(parent)


def _compress(parent: np.ndarray) -> np.ndarray:
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand


def cluster(graph: Graph) -> np.ndarray:
    """Label of each node (its group's smallest node) under the constraints."""
    labels = components(graph.n, graph.left, graph.right)
    troubled = _conflicted_labels(graph, labels)
    if not troubled.size:
        return labels
    in_trouble = np.isin(labels, troubled)
    edge_mask = in_trouble[graph.left]
    order = np.lexsort((graph.right[edge_mask], graph.left[edge_mask], -graph.weight[edge_mask]))
    nodes = np.flatnonzero(in_trouble)
    solver = _Kruskal(nodes, graph)
    for i, j, w in zip(graph.left[edge_mask][order].tolist(), graph.right[edge_mask][order].tolist(),
                       graph.weight[edge_mask][order].tolist(), strict=True):
        solver.offer(i, j, must=w >= MUST)
    labels = labels.copy()
    labels[nodes] = [solver.label(int(x)) for x in nodes]
    return labels


def _conflicted_labels(graph: Graph, labels: np.ndarray) -> np.ndarray:
    """Components holding a cannot-link pair, two valid IDs or two fixed nodes."""
    bad: list[np.ndarray] = []
    if graph.cannot:
        pairs = np.asarray(graph.cannot, dtype=np.int64)
        same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
        bad.append(labels[pairs[same, 0]])
    if len(graph.id_nodes):
        bad.append(_labels_with_many(labels[graph.id_nodes], graph.id_codes))
    if graph.fixed is not None and graph.fixed.any():
        fixed_labels = labels[graph.fixed]
        uniq, counts = np.unique(fixed_labels, return_counts=True)
        bad.append(uniq[counts > 1])
    return np.unique(np.concatenate(bad)) if bad else np.empty(0, dtype=np.int64)


def _labels_with_many(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    pairs = np.unique(np.stack([labels, values], axis=1), axis=0)
    uniq, counts = np.unique(pairs[:, 0], return_counts=True)
    return uniq[counts > 1]


class _Kruskal:
    """Union–find over a subset of nodes with per-group constraint state."""

    def __init__(self, nodes: np.ndarray, graph: Graph) -> None:
        self.parent = {int(x): int(x) for x in nodes}
        self.low = dict(self.parent)  # smallest node of each root's group
        self.ids: dict[int, set[int]] = {x: set() for x in self.parent}
        for x, code in zip(graph.id_nodes.tolist(), graph.id_codes.tolist(), strict=True):
            if x in self.ids:
                self.ids[x].add(code)
        self.fixed = {int(x) for x in nodes if graph.fixed is not None and graph.fixed[x]}
        self.apart: dict[int, set[int]] = {}
        for a, b in graph.cannot:
            if a in self.parent and b in self.parent:
                self.apart.setdefault(a, set()).add(b)
                self.apart.setdefault(b, set()).add(a)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def label(self, x: int) -> int:
        return self.low[self.find(x)]

    def offer(self, a: int, b: int, *, must: bool) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb or self._forbidden(ra, rb, must=must):
            return False
        if len(self.ids[ra]) + len(self.apart.get(ra, ())) < \
                len(self.ids[rb]) + len(self.apart.get(rb, ())):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.low[ra] = min(self.low[ra], self.low[rb])
        self.ids[ra] |= self.ids.pop(rb)
        if rb in self.apart:
            self.apart.setdefault(ra, set()).update(self.apart.pop(rb))
        if rb in self.fixed:
            self.fixed.add(ra)
        return True

    def _forbidden(self, ra: int, rb: int, *, must: bool) -> bool:
        if ra in self.fixed and rb in self.fixed:
            return True
        ids_a, ids_b = self.ids[ra], self.ids[rb]
        if not must and ids_a and ids_b and ids_a.isdisjoint(ids_b):
            return True
        small, other = (ra, rb) if len(self.apart.get(ra, ())) <= len(self.apart.get(rb, ())) \
            else (rb, ra)
        return any(self.find(x) == other for x in self.apart.get(small, ()))

