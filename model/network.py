"""The index sets of the resilient network (docs/model.md#chains-corridors-and-backup), built with numpy.

`Flows` enumerates the flow variables f_ia (each upstream cluster on each arc) and the chain pairs
(i, j, q_ij); `Recourse` enumerates, for every active disruption s, the surviving production p_ins
(per cluster of I* and node with a surviving allowed cell), the flows g_ias on the arcs that are not
cut, and which recourse_capacity rows are written against node totals (the compact form). Both are
computed once per instance from arrays, without a Python loop over cells, arcs or disruptions, so
that the formulation only states rows.

Symbols: i, j clusters, n node, a arc, s disruption; I* the critical clusters and every cluster
upstream of one; U the upstream clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from model.instance import Instance


def ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: (group of every element, position of the element in its group)."""
    counts = np.asarray(counts, dtype=int)
    group = np.repeat(np.arange(len(counts)), counts)
    start = np.cumsum(counts) - counts
    return group, np.arange(int(counts.sum())) - start[group]


@dataclass
class ChainPairs:
    """The chains (i upstream of j, q_ij), grouped by the downstream cluster j."""

    upstream: np.ndarray
    downstream: np.ndarray
    per_unit: np.ndarray
    _start: np.ndarray
    _count: np.ndarray

    @classmethod
    def of(cls, per_unit: np.ndarray, keep: np.ndarray | None = None) -> "ChainPairs":
        """Pairs with q_ij > 0 (and both i, j in the (I,) mask `keep` if given)."""
        mask = per_unit > 0
        if keep is not None:
            mask &= keep[:, None] & keep[None, :]
        j, i = np.nonzero(mask.T)  # sorted by j
        counts = np.bincount(j, minlength=len(per_unit))
        return cls(i, j, per_unit[i, j], np.cumsum(counts) - counts, counts)

    def upstream_of(self, downstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For elements whose cluster is `downstream[e]`: (element, pair) for every chain into that cluster."""
        element, within = ragged(self._count[downstream])
        return element, self._start[downstream[element]] + within


class Flows:
    """f_ia for every upstream cluster i ∈ U and arc a; column k = position in U × arcs + a."""

    def __init__(self, inst: Instance):
        net = inst.network
        assert net is not None
        self.upstream = net.upstream
        self.rank = np.full(len(inst.clusters), -1)
        self.rank[self.upstream] = np.arange(len(self.upstream))
        self.arcs = len(net.arc_from)
        self.cluster = np.repeat(self.upstream, self.arcs)
        self.arc = np.tile(np.arange(self.arcs), len(self.upstream))
        self.pairs = ChainPairs.of(net.per_unit)

    def __len__(self) -> int:
        return len(self.cluster)

    def keys(self, inst: Instance) -> list[tuple[str, str, str]]:
        """(cluster, from node, to node) of every flow."""
        net, nodes = inst.network, np.asarray(inst.nodes, dtype=object)
        assert net is not None
        return list(
            zip(
                np.asarray(inst.clusters, dtype=object)[self.cluster].tolist(),
                nodes[net.arc_from[self.arc]].tolist(),
                nodes[net.arc_to[self.arc]].tolist(),
            )
        )


class Recourse:
    """The recourse variables of every active disruption (docs/model.md#recourse).

    p: one per (s, i ∈ I*, n) with a surviving allowed cell of i in n, in that order; `p_at[s, key]`
    is its position (−1: none), key = position of i in I* × nodes + n. g: one per (s, i ∈ U ∩ I*, a)
    with a not cut by s. `compact[s, key]`: the p's recourse_capacity row is written against the node
    total X_in minus the lost cells (it has fewer nonzeros that way); `totals` lists the keys whose X_in
    some row uses.
    """

    def __init__(self, inst: Instance, literal: bool = False):
        net = inst.network
        assert net is not None
        self.names = list(inst.disruptions)
        S, N = len(self.names), len(inst.nodes)
        lost = np.array([inst.disruptions[s] for s in self.names]).reshape(S, len(inst.regions))
        self.lost = lost
        self.node_lost = np.array([inst.node_lost(row) for row in lost]).reshape(S, N)
        self.cut = np.array([net.cut(row) for row in self.node_lost]).reshape(S, len(net.arc_from))
        self.members = np.flatnonzero(net.chain_members)
        self.rank = np.full(len(inst.clusters), -1)
        self.rank[self.members] = np.arange(len(self.members))
        self.nodes = N
        cells = inst.cells
        i, r = cells["i"].to_numpy(int), cells["r"].to_numpy(int)
        self.cells = np.flatnonzero(self.rank[i] >= 0)  # cells of clusters in I*
        assert inst.node is not None, "recourse needs the network's nodes"
        self.cell_key = self.rank[i[self.cells]] * N + inst.node[r[self.cells]]
        keys = len(self.members) * N
        onehot = scipy.sparse.csr_matrix(
            (np.ones(len(self.cells)), (np.arange(len(self.cells)), self.cell_key)), shape=(len(self.cells), keys)
        )
        self.cell_lost = lost[:, r[self.cells]]  # (S, cells of I*)
        surviving = np.asarray((~self.cell_lost).astype(float) @ onehot).reshape(S, keys)
        total = np.asarray(onehot.sum(axis=0)).ravel()
        has_p = surviving > 0
        self.p_s, self.p_key = np.nonzero(has_p)
        self.p_at = np.full((S, keys), -1)
        self.p_at[self.p_s, self.p_key] = np.arange(len(self.p_s))
        self.p_cluster = self.members[self.p_key // N]
        self.p_node = self.p_key % N
        self.compact = has_p & (total - surviving + 1 < surviving) if not literal else np.zeros_like(has_p)
        self.totals = np.flatnonzero(self.compact.any(axis=0))
        self.total_at = np.full(keys, -1)
        self.total_at[self.totals] = np.arange(len(self.totals))

        upstream = net.upstream
        self.suppliers = upstream[self.rank[upstream] >= 0]  # U ∩ I*
        self.supplier_rank = np.full(len(inst.clusters), -1)
        self.supplier_rank[self.suppliers] = np.arange(len(self.suppliers))
        A, G = len(net.arc_from), len(self.suppliers)
        open_arc = np.broadcast_to(~self.cut[:, None, :], (S, G, A))
        self.g_s, g_rank, self.g_arc = np.nonzero(open_arc)
        self.g_cluster = self.suppliers[g_rank]
        self.pairs = ChainPairs.of(net.per_unit, net.chain_members)

    @property
    def num_p(self) -> int:
        return len(self.p_s)

    @property
    def num_g(self) -> int:
        return len(self.g_s)

    def p_keys(self, inst: Instance) -> list[tuple[str, str, str]]:
        """(cluster, node, disruption) of every p."""
        return list(
            zip(
                np.asarray(inst.clusters, dtype=object)[self.p_cluster].tolist(),
                np.asarray(inst.nodes, dtype=object)[self.p_node].tolist(),
                np.asarray(self.names, dtype=object)[self.p_s].tolist(),
            )
        )

    def g_keys(self, inst: Instance) -> list[tuple[str, str, str, str]]:
        """(cluster, from node, to node, disruption) of every g."""
        net, nodes = inst.network, np.asarray(inst.nodes, dtype=object)
        assert net is not None
        return list(
            zip(
                np.asarray(inst.clusters, dtype=object)[self.g_cluster].tolist(),
                nodes[net.arc_from[self.g_arc]].tolist(),
                nodes[net.arc_to[self.g_arc]].tolist(),
                np.asarray(self.names, dtype=object)[self.g_s].tolist(),
            )
        )

    def total_keys(self, inst: Instance) -> list[tuple[str, str]]:
        """(cluster, node) of every node total X_in."""
        return list(
            zip(
                np.asarray(inst.clusters, dtype=object)[self.members[self.totals // self.nodes]].tolist(),
                np.asarray(inst.nodes, dtype=object)[self.totals % self.nodes].tolist(),
            )
        )


def required_output(inst: Instance) -> np.ndarray:
    """(I,) what must survive of each cluster of I* for every critical chain to deliver ρ:
    max(ρ·T_i if i is critical, Σ_{j∈I*} q_ij·required_j), 0 outside I* (docs/model.md#recourse)."""
    net = inst.network
    assert net is not None
    rho = inst.disruption_survival or 0.0
    required = np.where(inst.critical, rho * inst.target, 0.0)
    q = np.where(net.chain_members[:, None] & net.chain_members[None, :], net.per_unit, 0.0)
    for _ in range(len(required)):  # chains form no cycle: this settles within I rounds
        grown = np.maximum(np.where(inst.critical, rho * inst.target, 0.0), q @ required)
        if np.allclose(grown, required, rtol=0, atol=0):
            break
        required = grown
    return np.where(net.chain_members, required, 0.0)
