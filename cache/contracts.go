package cache

import (
	"context"
	"errors"
	"time"
)

// This file declares what the pool needs from the world outside package
// cache, with standard-library types only, so that adapters elsewhere (the
// EC2 Auto Scaling provider in scaling, the database in store) satisfy
// these interfaces without importing this package's implementation.

// Provider supplies the pool's nodes. The local provider (this package)
// runs them in-process; the asg provider (package scaling) runs them as EC2
// instances of an Auto Scaling group.
type Provider interface {
	// Members returns the HTTP addresses ("host:port") of the nodes that
	// are running and healthy, in a stable order.
	Members(ctx context.Context) ([]string, error)
	// SetSize asks for n nodes in all, launching new ones when n is larger
	// than the current size. New members appear in Members once they serve.
	// The pool never shrinks through SetSize: it drains a chosen node and
	// calls Remove on that very node.
	SetSize(ctx context.Context, n int) error
	// Remove stops the given member and lowers the size by one.
	Remove(ctx context.Context, member string) error
}

// NodeConfig is what every node of a pool is configured with.
type NodeConfig struct {
	Capacity int64  `json:"capacity"` // bytes
	Policy   string `json:"policy"`   // canonical policy name, as Policies lists it
}

// Table is the pool's routing table: which nodes there are and how keys
// map to them. One owner changes it (the manager or autoscaler side), each
// change with a higher Epoch; galleries in other processes follow it
// through a TableStore.
type Table struct {
	Epoch       uint64   `json:"epoch"`
	Partitioner string   `json:"partitioner"` // "rendezvous" or "ece1779"
	Members     []string `json:"members"`     // node HTTP addresses
	// Previous lists the members before the resize in progress, while its
	// entries move: reads that miss on a partition's new owner fall back to
	// its previous owner, and invalidations go to both. Empty otherwise.
	Previous []string   `json:"previous,omitempty"`
	Config   NodeConfig `json:"config"`
	Updated  time.Time  `json:"updated"`
}

var (
	// ErrNoTable is returned by TableStore.LoadTable before any table was saved.
	ErrNoTable = errors.New("cache: no pool table saved yet")
	// ErrEpochConflict is returned by TableStore.SwapTable when the stored
	// table's epoch is not the one the caller last read: another owner
	// changed the pool in between.
	ErrEpochConflict = errors.New("cache: pool table changed concurrently")
)

// TableStore persists the pool table and the pool's fences where every
// process of a deployment can read them (the database, in package store).
type TableStore interface {
	// LoadTable returns the latest table, or ErrNoTable.
	LoadTable(ctx context.Context) (Table, error)
	// SwapTable stores t if the stored table's epoch is prevEpoch (0: none
	// stored yet), and returns ErrEpochConflict otherwise.
	SwapTable(ctx context.Context, prevEpoch uint64, t Table) error
	// LoadFences returns the pool's fences; all zero before any was raised.
	LoadFences(ctx context.Context) (Fences, error)
	// RaiseFence adds one to a node's fence, durably, before it returns.
	// (The generation is raised by whoever deletes every image, in the
	// same transaction: see Fences.)
	RaiseFence(ctx context.Context, node string) error
}

// NodeStats is one node's statistics for one publishing interval: Items
// and Bytes at its end, Requests, Hits and Misses counted during it.
type NodeStats struct {
	Node     string // the node's address
	Time     time.Time
	Items    int64
	Bytes    int64
	Requests int64
	Hits     int64
	Misses   int64
}

// StatsPublisher receives each node's statistics every publishing interval
// (5 s). Main adapts it to the metrics backend.
type StatsPublisher interface {
	PublishStats(ctx context.Context, s NodeStats) error
}
