package memproto

import "time"

// storage serves the classic storage commands:
//
//	<set|add|replace|append|prepend> <key> <flags> <exptime> <bytes> [noreply]
//	cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]
//
// followed by the data block. When the line is malformed but its length
// can be read, the data block is skipped, so that it is never taken for
// commands (memcached would parse it as commands).
func (c *conn) storage(mode byte, withCAS bool) {
	f := c.fields
	want := 5
	if withCAS {
		want = 6
	}
	if len(f) < want || len(f) > want+1 {
		c.out.line("ERROR")
		return
	}
	n, lenOK := parseLength(f[4])
	flags, flagsOK := parseFlags(f[2])
	t, expOK := parseInt(f[3])
	var compare uint64
	casOK := true
	if withCAS {
		compare, casOK = parseUint(f[5], 1<<64-1)
	}
	noreply := len(f) == want+1 && string(f[want]) == "noreply"
	keyOK := validKey(f[1])
	key := string(f[1]) // copied: reading the data block reuses the line's memory
	if !lenOK {
		c.out.line("CLIENT_ERROR bad command line format")
		return
	}
	if !keyOK || !flagsOK || !expOK || !casOK {
		c.out.line("CLIENT_ERROR bad command line format")
		c.skip(n + 2)
		return
	}
	v, ok := c.readValue(n)
	if !ok {
		return
	}
	now := time.Now().Unix()
	exptime, dead := expiry(t, now)
	r := storeReq{mode: mode, value: v, flags: flags, exptime: exptime, dead: dead,
		compare: compare, hasCompare: withCAS, cas: c.s.nextCAS()}
	out := c.s.store(key, r, now)
	if noreply && out.result != resNoMemory {
		return
	}
	c.out.line(classicStoreReply[out.result])
}

// classicStoreReply is each store result's reply line.
var classicStoreReply = [...]string{
	resStored:    "STORED",
	resNotStored: "NOT_STORED",
	resExists:    "EXISTS",
	resNotFound:  "NOT_FOUND",
	resNoMemory:  "SERVER_ERROR out of memory storing object",
}

// store applies a storage request and counts it. It releases the
// request's value unless the backend took it.
func (s *Server) store(key string, r storeReq, now int64) storeOutcome {
	var out storeOutcome
	err := s.backend.Update(key, func(st State) Change {
		out = decideStore(st, r, now, s.backend.Alloc)
		return out.change
	})
	if !out.consumed {
		r.value.Release()
	}
	if err != nil {
		out.result = resNoMemory
	}
	if r.hasCompare {
		s.stats.countCAS(out.result)
	}
	switch out.result {
	case resStored:
		s.stats.totalItems.Add(1)
	case resNoMemory:
		s.stats.storeNoMemory.Add(1)
	}
	return out
}
