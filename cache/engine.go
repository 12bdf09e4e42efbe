// Package cache holds the byte-bounded replacement engines that each cache
// node runs, behind one stable API (Engine, New, Policies) that outside
// benchmarks compile against. It imports only the standard library.
//
// The rest of the cache lives beneath it, one idea a package: node (one
// node: its server, wire protocols and client), pool (routing keys to the
// nodes of a table, resizing, fences, providers), partition (keys to
// partitions, partitions to members), nodekey (the layout of the keys
// stored on nodes) and sim (replaying traces through the engines). They
// import only the standard library and each other.
package cache

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// ItemOverhead is the fixed number of bytes charged per item on top of
// len(key)+len(value). It is part of the contract: simulators outside this
// package charge the same to reproduce an engine's contents, and the compact
// index the engines use keeps their real per-item bookkeeping at or below it.
const ItemOverhead = 64

// Cost returns the bytes an item of this key and value is charged.
func Cost(key string, value []byte) int64 {
	return int64(len(key)) + int64(len(value)) + ItemOverhead
}

var (
	// ErrTooLarge is returned by Set when an item's cost exceeds the
	// engine's whole capacity, so it could never be stored.
	ErrTooLarge = errors.New("cache: item larger than the cache capacity")
	// ErrUnknownPolicy is returned by New for a policy name it does not know.
	ErrUnknownPolicy = errors.New("cache: unknown replacement policy")
	// ErrNegativeCapacity is returned by New for a capacity below zero.
	ErrNegativeCapacity = errors.New("cache: negative capacity")
)

// Engine is a byte-bounded key/value store with one replacement policy.
// Engines returned by New are safe for concurrent use.
//
// An engine keeps the value slice it is given and returns that same slice
// from Get: neither the caller of Set nor the caller of Get may modify it.
// That is what lets a node serve a 1 MB image without copying it.
type Engine interface {
	// Get returns the value and true on a hit; a hit updates recency where
	// the policy has it. A miss is (nil, false).
	Get(key string) ([]byte, bool)
	// Set stores value under key, replacing any previous value, and evicts
	// as the policy decides until the new item fits. It returns ErrTooLarge,
	// and removes any previous value of key, when the item alone exceeds the
	// capacity.
	Set(key string, value []byte) error
	// Delete removes key and reports whether it was present.
	Delete(key string) bool
	// Clear removes every item.
	Clear()
	// Len is the number of items held.
	Len() int
	// Size is the bytes charged: the sum of Cost over the items held.
	// Size() <= Capacity() holds after every call.
	Size() int64
	// Capacity is the bound on Size, in bytes.
	Capacity() int64
	// SetCapacity changes the bound and evicts down to it at once.
	// A negative value is taken as zero.
	SetCapacity(bytes int64)
}

// Ranger is implemented by every engine New returns, beside Engine (whose
// method set outside code compiles against, so it stays as it is). A node
// uses it to hand items over to another node during a resize and to keep
// them across a policy switch.
type Ranger interface {
	// Range calls fn for each item held when Range was called, until fn
	// returns false; the most valuable items first where the policy has an
	// order (most recently used first for lru). fn runs without the
	// engine's lock, so it may call the engine; items changed meanwhile may
	// be visited with their old value or not at all.
	Range(fn func(key string, value []byte) bool)
}

// policy describes one replacement policy that New can build.
type policy struct {
	name    string   // canonical name, as Policies lists it
	aliases []string // other accepted spellings
	label   string   // for people, as the manager shows it
	build   func(capacity int64, opts Options) Engine
}

// policies is the registry behind New, Policies and PolicyLabel, in the
// order Policies returns them.
var policies = []policy{
	{name: "lru", label: "Least recently used", build: func(c int64, _ Options) Engine { return newLRU(c) }},
	{name: "random", aliases: []string{"rr"}, label: "Random replacement", build: func(c int64, o Options) Engine { return newRandom(c, o.Rand) }},
	{name: "sieve", label: "SIEVE (FIFO with lazy promotion)", build: func(c int64, _ Options) Engine { return newSIEVE(c) }},
	{name: "tinylfu", aliases: []string{"w-tinylfu"}, label: "W-TinyLFU (frequency admission)", build: func(c int64, _ Options) Engine { return newTinyLFU(c, false) }},
	{name: "sizelfu", label: "Size-aware TinyLFU (frequency per byte)", build: func(c int64, _ Options) Engine { return newTinyLFU(c, true) }},
}

// Options configures NewWithOptions. The zero value of each field is its
// default.
type Options struct {
	// Rand is the source of the random policy's choices. Default: a PCG
	// generator seeded at random. Tests pass a seeded one.
	Rand *rand.Rand
}

// DefaultPolicy is the policy of a new pool: sizelfu had the best object
// hit ratio under a byte bound in go tool task bench:engines (above otter
// and ristretto at 256 MiB and 1 GiB), and the pool's autoscaler sizes it
// by the object miss rate. See README.md, "Cache engines".
const DefaultPolicy = "sizelfu"

// Policies returns the canonical names of every policy New accepts.
func Policies() []string {
	names := make([]string, len(policies))
	for i, p := range policies {
		names[i] = p.name
	}
	return names
}

// PolicyLabel returns a policy's name for people ("Least recently used"),
// or "" when the policy is unknown. Aliases are accepted.
func PolicyLabel(name string) string {
	if p, ok := lookupPolicy(name); ok {
		return p.label
	}
	return ""
}

// CanonicalPolicy returns the canonical name of a policy given by name or
// alias in any letter case ("RR" → "random"), and false if it is unknown.
func CanonicalPolicy(name string) (string, bool) {
	p, ok := lookupPolicy(name)
	return p.name, ok
}

func lookupPolicy(name string) (policy, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range policies {
		if p.name == name || slices.Contains(p.aliases, name) {
			return p, true
		}
	}
	return policy{}, false
}

// New returns an empty engine with the named policy (see Policies; aliases
// such as "rr" and any letter case are accepted) and a capacity in bytes.
func New(policyName string, capacity int64) (Engine, error) {
	return NewWithOptions(policyName, capacity, Options{})
}

// NewWithOptions is New with options, such as a seeded random source.
func NewWithOptions(policyName string, capacity int64, opts Options) (Engine, error) {
	p, ok := lookupPolicy(policyName)
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownPolicy, policyName, strings.Join(Policies(), ", "))
	}
	if capacity < 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrNegativeCapacity, capacity)
	}
	return p.build(capacity, opts), nil
}
