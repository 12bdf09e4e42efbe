// Package memproto speaks memcached's text protocol: a Server over a
// Backend (what a PicPool node stores), and a Client for the pool. It
// imports only the standard library and package cache.
//
// # Commands
//
// The classic commands: get, gets, gat, gats (many keys), set, add,
// replace, append, prepend, cas, delete, incr, decr, touch, flush_all
// [delay], stats (general, "settings", "reset", "cachedump" for
// memcdump), version, verbosity, quit, each with noreply where memcached
// takes it. The meta commands: mg (flags b c f k O q s t u v T), ms (b c
// C E F I k O q T M with modes S E R A P), md (b C E I k O q T), ma (b C
// N J D T M q O t c v k) and mn. Replies and error lines are memcached
// 1.6.18's, checked against Debian's memcached (see the tests). Expiry
// times are memcached's: 0 never, up to 30 days relative, beyond that a
// Unix time, negative already expired. Client flags are 32 bits. CAS
// values come from one counter per server, so each store has its own.
//
// Where this server differs from memcached 1.6.18, on purpose:
//
//   - Keys with control characters are refused (memcached takes them);
//     client flags above 2^32-1 are refused (memcached stores 0).
//   - A storage line that is malformed but whose length reads has its
//     data block skipped; memcached reads the block as commands, so a
//     value could run as a command.
//   - mg h, l, N, R, ms N, md x, "me", "stats items/slabs", "slabs",
//     "lru_crawler" and "watch" are not served: nothing here keeps the
//     state behind them.
//   - incr and decr store the number without memcached's space padding.
//   - After "CLIENT_ERROR unauthenticated", later pipelined commands are
//     each answered; memcached drops the rest of that read.
//
// # Authentication
//
// With Options.Token set, a connection authenticates as memcached -Y
// asks: its first command is a set whose data is "<user> <token>" (any
// user); see auth.go for the replies. memcached's tools then work
// against a node as against memcached with -Y. Without a token anyone who
// reaches the port can read and write: the node command is to allow that
// on a loopback address only.
//
// # What PicPool needs of a node, mapped onto the protocol
//
// Versioned set: "ms <key> <len> E<version>". memcached releases after
// 1.6.18 name E "use token as new CAS value" (for clients that keep CAS
// values in step across servers), so the version becomes the item's CAS
// and "mg c" returns it. A PicPool node adds one rule: a store with
// E is not stored, NS, when the node holds the key at a newer version (a
// versioned item with a higher CAS) or a tombstone above it. NS is
// memcached's "not stored: the condition did not hold", as for add, and
// a stale set is exactly that; an equal version stores (it is the same
// content). Not C: memcached's C is equality, and C with I stores an
// older value (marked stale), the reverse of what the pool needs. Not a
// client flag: flags are 32 opaque bits, versions are 64-bit sequence
// numbers. memcached 1.6.18 refuses E ("CLIENT_ERROR invalid flag"), so
// a pool pointed at an old memcached fails loudly; a newer memcached
// takes E without the rule: the guarantee needs a PicPool node. Stores
// without E get a counter CAS and are unversioned: any versioned store
// replaces them, and they replace versioned items (an operator's write
// wins).
//
// Versioned delete: "md <key> E<version> [T<seconds>]" removes the item
// and leaves a tombstone of that version (the highest seen) for T
// seconds, or the backend's TombstoneTTL: while it lives, stores with a
// lower E are NS. The reply is HD, or NF when nothing was held (the
// tombstone stands either way). Not md I: memcached's I keeps serving
// the old value (with X), and does nothing for a key not held, which is
// where a tombstone matters: a reader that loaded the old version just
// before the writer deleted it. E with I marks the item stale with the
// version as its CAS, and leaves the tombstone too.
//
// Get with version: "mg <key> v c f" answers "VA <len> c<version>
// f<flags>" and the value, or EN.
//
// Peek: "mg <key> v c u". memcached's u reads "without bumping the item
// in the LRU ... this also avoids marking an item as being hit": an
// access that is not a use. A PicPool node also leaves it out of
// get_hits and get_misses and counts it in peek_hits and peek_misses:
// the pool's singleflight re-checks a key it has just missed, and one
// lookup must be one miss in the figures the autoscaler reads.
//
// Stats: "stats" reports curr_items, bytes, get_hits, get_misses,
// evictions and limit_maxbytes under memcached's names, with policy (the
// engine's replacement policy), peek_hits, peek_misses and tombstones.
//
// Keys: PicPool's node keys are UTF-8 and may hold spaces, which
// memcached keys may not; the client sends such keys in base64 with the
// b flag, so only the meta commands reach them. Partition streaming for
// resizes stays on the node's HTTP API.
//
// # Value memory
//
// A Backend hands values out as Value, with a Release: the server holds
// a GET's value until its bytes are written, then releases it, so that a
// backend reusing value memory (memcached's slabs with reference counts)
// never hands those bytes to a new value while they are on their way.
// EngineBackend does so for the values it replaces or deletes (see
// holds.go); the ones its engine evicts go to the garbage collector, as
// the engines do not report evictions. A client that stops reading is
// cut off after Options.WriteTimeout, so it cannot pin values for long.
package memproto
