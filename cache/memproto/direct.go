package memproto

import (
	"fmt"
	"time"
)

// A node also writes its store without the wire: its HTTP API (tools,
// tests) and the import of a moved partition. These are the same
// decisions as the meta commands', on the server's backend and with its
// CAS counter, so every way in keeps the same rules.

// SetVersion stores value under key at version, as "ms <key> <len>
// E<version>" does: stored is false when key is held at a newer version
// or a tombstone above it stands. Version 0 stores unversioned, as a
// plain set. SetVersion takes over value (from the backend's Alloc); it
// returns ErrNoMemory when the item cannot fit.
func (s *Server) SetVersion(key string, version uint64, value Value) (stored bool, err error) {
	out := s.store(key, storeReq{mode: modeSet, value: value, version: version, cas: s.nextCAS()}, time.Now().Unix())
	if out.result == resNoMemory {
		return false, fmt.Errorf("%w: %d bytes under %q", ErrNoMemory, len(value.B), key)
	}
	return out.result == resStored, nil
}

// DeleteVersion removes key, as "md <key> E<version>" does: a version
// above 0 also leaves a tombstone that refuses older versioned stores for
// the backend's tombstone time. It reports whether an item was removed.
func (s *Server) DeleteVersion(key string, version uint64) (bool, error) {
	var res storeResult
	now := time.Now().Unix()
	err := s.backend.Update(key, func(st State) Change {
		var ch Change
		ch, res = decideDelete(st, deleteReq{version: version, cas: s.nextCAS()}, now)
		return ch
	})
	return res == resStored, err
}

// KeepOut records a tombstone of version for key, as one that came with
// a moved partition: versioned stores below it are refused, and key's
// item is removed when it is older (or unversioned), kept when newer.
func (s *Server) KeepOut(key string, version uint64) error {
	return s.backend.Update(key, func(st State) Change {
		ch := Change{Op: Keep, Tombstone: version}
		if st.Found && (!st.Item.Versioned || st.Item.CAS < version) {
			ch.Op = Delete
		}
		return ch
	})
}
