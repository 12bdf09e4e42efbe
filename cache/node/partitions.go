package node

import (
	"time"

	"github.com/picpool/picpool/cache/memproto"
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
// keys fall in the wanted partitions. An entry's value is valid only
// during fn.
func (n *Node) partitionEntries(pt partition.Partitioner, want map[int]bool, fn func(Entry) error) error {
	var err error
	now := time.Now().Unix()
	n.store.Range(func(key string, it memproto.Item) bool {
		if inPartitions(pt, want, key) && (it.Exptime == 0 || it.Exptime > now) {
			err = fn(Entry{Key: key, Version: it.CAS, Value: it.Value.B})
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	n.store.Tombstones(func(key string, version uint64) bool {
		if inPartitions(pt, want, key) {
			err = fn(Entry{Key: key, Version: version, Tombstone: true})
		}
		return err == nil
	})
	return err
}

// dropPartitions removes the items of the given partitions (a resize moved
// them away; tombstones stay, as they do on clear) and returns how many.
// It counts one request, not one per item.
func (n *Node) dropPartitions(pt partition.Partitioner, want map[int]bool) int {
	n.requests.Add(1)
	n.curve.restart(n.Config(), false) // the node's keys changed: see curve
	var keys []string
	n.store.Range(func(key string, _ memproto.Item) bool {
		if inPartitions(pt, want, key) {
			keys = append(keys, key)
		}
		return true
	})
	dropped := 0
	for _, k := range keys {
		n.store.EngineBackend.Update(k, func(st memproto.State) memproto.Change {
			if st.Found {
				dropped++
			}
			return memproto.Change{Op: memproto.Delete}
		})
	}
	return dropped
}
