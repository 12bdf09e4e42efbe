package node

import (
	"errors"
	"time"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

// A resize moves whole partitions between nodes: the new owner's import
// of the old owner's listing (see entries.go), then a drop on the old one.
// Node keys carry their key's routing byte (see package nodekey), so a
// node tells the partition of each item without knowing the gallery keys.

// inPartitions reports whether a node key falls in one of the wanted
// partitions; keys the pool did not make (a memcached client's own) never
// do, so they are never moved or dropped by a resize.
func inPartitions(pt partition.Partitioner, want map[int]bool, key string) bool {
	k, _, ok := nodekey.Parse(key)
	return ok && want[partition.OfHash(pt, k.Hash())]
}

// partitionEntries calls fn with the items and then the tombstones whose
// keys fall in the wanted partitions.
func (n *Node) partitionEntries(pt partition.Partitioner, want map[int]bool, fn func(Entry) error) error {
	ranger, ok := n.engine.Load().Engine.(cache.Ranger)
	if !ok {
		return errors.New("cache: this node's engine cannot list its items")
	}
	var err error
	ranger.Range(func(key string, value []byte) bool {
		if inPartitions(pt, want, key) && len(value) >= versionBytes {
			err = fn(Entry{Key: key, Version: binaryVersion(value), Value: value[versionBytes:]})
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	for _, t := range n.tombs.live(time.Now()) {
		if inPartitions(pt, want, t.Key) {
			if err := fn(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropPartitions removes the items of the given partitions (a resize moved
// them away; tombstones stay, as they do on clear) and returns how many.
func (n *Node) dropPartitions(pt partition.Partitioner, want map[int]bool) int {
	n.requests.Add(1)
	n.curve.restart(n.Config(), false) // the node's keys changed: see curve
	var keys []string
	e := n.engine.Load()
	if r, ok := e.Engine.(cache.Ranger); ok {
		r.Range(func(key string, _ []byte) bool {
			if inPartitions(pt, want, key) {
				keys = append(keys, key)
			}
			return true
		})
	}
	dropped := 0
	for _, k := range keys {
		mu := n.stripe(k)
		mu.Lock()
		if e.Delete(k) {
			dropped++
		}
		mu.Unlock()
	}
	return dropped
}
