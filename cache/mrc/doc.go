// Package mrc keeps one cache node's miss-ratio curve online: the miss
// ratio its traffic would have at any capacity in bytes, for the
// replacement policy the node runs, over a sliding window of recent
// requests, in bounded memory and at a small cost per request. It also
// combines the curves of a pool's nodes into the pool's (Combine) and
// predicts the pool's miss ratio at any number of nodes
// (Curve.PoolMissRatio), from which the autoscaler picks a size.
//
// Both methods sample keys spatially: a key is followed when its hash
// falls below a threshold, so a rate R of the keys, with every request for
// them (SHARDS, Waldspurger et al., FAST '15). For lru, the sampled
// requests' reuse distances in bytes — the bytes of the distinct items
// used since the key's last use, plus its own — give the exact LRU curve
// of the sample at every capacity at once; divided by R they give the
// node's. The other policies have no such stack property: seven
// scaled-down caches built with cache.New run on the sample at capacities
// × R, a factor of 2 apart (miniature simulation, Waldspurger et al., ATC
// '17), and the LRU stack of the same sample draws the curve between them
// (see guided).
//
// The curve counts what a node can see: a Record per request whose size is
// known (see Recorder.Record). Miss ratios are per request (objects), as
// the pool's miss rate is; capacities are bytes, charged as the engines
// charge items (cache.Cost).
package mrc
