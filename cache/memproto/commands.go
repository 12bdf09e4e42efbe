package memproto

import "time"

// This file serves the classic commands that carry no data block:
// delete, incr/decr, touch, flush_all and verbosity, with memcached's
// replies and error lines.

// delete serves "delete <key> [0] [noreply]" (the 0 is a relic that
// memcached still accepts).
func (c *conn) delete() {
	if !c.keyed(2, 4) {
		return
	}
	f, noreply := c.fields, c.noreply()
	if len(f) > 2 {
		zero := string(f[2]) == "0"
		if !(len(f) == 3 && (zero || noreply) || len(f) == 4 && zero && noreply) {
			c.out.line("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]")
			return
		}
	}
	now := time.Now().Unix()
	var res storeResult
	_ = c.s.backend.Update(string(f[1]), func(st State) Change {
		var ch Change
		ch, res = decideDelete(st, deleteReq{}, now)
		return ch
	})
	if res == resStored {
		c.s.stats.deleteHits.Add(1)
	} else {
		c.s.stats.deleteMisses.Add(1)
	}
	if !noreply {
		c.out.line(map[bool]string{true: "DELETED", false: "NOT_FOUND"}[res == resStored])
	}
}

// arith serves "incr|decr <key> <delta> [noreply]".
func (c *conn) arith(decr bool) {
	if !c.keyed(3, 4) {
		return
	}
	f := c.fields
	delta, ok := parseUint(f[2], 1<<64-1)
	if !ok {
		c.out.line("CLIENT_ERROR invalid numeric delta argument")
		return
	}
	out := c.applyArith(string(f[1]), arithReq{decr: decr, delta: delta, cas: c.s.nextCAS()})
	switch {
	case out.result == resNonNumeric:
		c.out.line("CLIENT_ERROR cannot increment or decrement non-numeric value")
	case out.result == resNoMemory:
		c.out.line("SERVER_ERROR out of memory")
	case c.noreply():
	case out.result == resNotFound:
		c.out.line("NOT_FOUND")
	default:
		c.out.uint(out.number)
		c.out.crlf()
	}
}

// applyArith runs an incr or decr and counts it.
func (c *conn) applyArith(key string, r arithReq) arithOutcome {
	now := time.Now().Unix()
	var out arithOutcome
	err := c.s.backend.Update(key, func(st State) Change {
		out = decideArith(st, r, now, c.s.backend.Alloc)
		return out.change
	})
	if err != nil {
		out.result = resNoMemory
	}
	hit := out.result == resStored || out.result == resNonNumeric || out.result == resExists
	c.s.stats.countArith(r.decr, hit)
	return out
}

// touch serves "touch <key> <exptime> [noreply]".
func (c *conn) touch() {
	if !c.keyed(3, 4) {
		return
	}
	t, ok := parseInt(c.fields[2])
	if !ok {
		c.out.line("CLIENT_ERROR invalid exptime argument")
		return
	}
	now := time.Now().Unix()
	exptime, dead := expiry(t, now)
	found := c.retouch(string(c.fields[1]), now, 0, exptime, dead)
	c.s.stats.cmdTouch.Add(1)
	if found {
		c.s.stats.touchHits.Add(1)
	} else {
		c.s.stats.touchMisses.Add(1)
	}
	if !c.noreply() {
		c.out.line(map[bool]string{true: "TOUCHED", false: "NOT_FOUND"}[found])
	}
}

// flushAll serves "flush_all [delay] [noreply]": every item goes, now or
// when the delay (an expiry time: seconds, or a Unix time past 30 days)
// has passed. A later flush_all replaces a pending one.
func (c *conn) flushAll() {
	f := c.fields
	if len(f) > 3 {
		c.out.line("ERROR")
		return
	}
	noreply := c.noreply()
	var delay time.Duration
	if len(f) > 1 && !(len(f) == 2 && noreply) {
		t, ok := parseInt(f[1])
		if !ok {
			c.out.line("CLIENT_ERROR invalid exptime argument")
			return
		}
		now := time.Now()
		if at, dead := expiry(t, now.Unix()); t > 0 && !dead {
			delay = time.Unix(at, 0).Sub(now)
		}
	}
	c.s.stats.cmdFlush.Add(1)
	c.s.scheduleFlush(delay)
	if !noreply {
		c.out.line("OK")
	}
}

// scheduleFlush flushes the backend after delay (at once when it is not
// positive), replacing a flush still pending.
func (s *Server) scheduleFlush(delay time.Duration) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.flushTimer != nil {
		s.flushTimer.Stop()
		s.flushTimer = nil
	}
	if delay <= 0 {
		s.backend.Flush()
		return
	}
	s.flushTimer = time.AfterFunc(delay, s.backend.Flush)
}

// verbosity serves "verbosity <level> [noreply]". There is no log level
// to set: the server's logger decides; it answers OK as memcached does.
func (c *conn) verbosity() {
	f := c.fields
	if len(f) < 2 || len(f) > 3 {
		c.out.line("ERROR")
		return
	}
	if !c.noreply() {
		c.out.line("OK")
	}
}
