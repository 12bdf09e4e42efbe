package pool

import (
	"context"
	"errors"
	"time"

	"github.com/picpool/picpool/cache/node"
)

// This file declares what the pool needs from the world outside the cache
// packages, so that adapters elsewhere satisfy these interfaces without
// importing the pool's implementation: Provider with standard-library
// types only (the EC2 Auto Scaling provider in scaling satisfies it
// without importing any cache package), TableStore with the value types
// declared here (the database in store).

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
	Previous []string    `json:"previous,omitempty"`
	Config   node.Config `json:"config"`
	Updated  time.Time   `json:"updated"`
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
