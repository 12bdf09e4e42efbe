package memproto

import "time"

// The meta commands (mg, ms, md, ma; mn is answered in serve), with the
// flags of memcached 1.6 that PicPool and common clients use, and E, the
// version (see doc.go). Flags memcached has but this server does not keep
// the state for (mg h, l, N, R; ms N; md x) are refused as invalid.

// Flags each meta command takes.
const (
	mgFlags = "bcfkOqstuvT"
	msFlags = "bcCEFIkOqTM"
	mdFlags = "bCEIkOqT"
	maFlags = "bCNJDTMqOtcvk"
)

// errInvalidOrDuplicate is how md and ma answer any flag they cannot take.
const errInvalidOrDuplicate = "CLIENT_ERROR invalid or duplicate flag"

// metaGet serves "mg <key> <flags>*": VA with the value (v), HD without,
// EN on a miss (not sent with q). u looks without counting a hit or miss
// (PicPool's peek); T sets a new expiry time.
func (c *conn) metaGet() {
	f, m := c.fields, &c.meta
	if len(f) < 2 {
		c.out.line("ERROR")
		return
	}
	if e := parseMetaFlags(m, f[2:], mgFlags); e != "" {
		c.out.line(string(e))
		return
	}
	key, ok := c.metaKey(f[1], m)
	if !ok {
		return
	}
	now := time.Now().Unix()
	peek := m.has('u')
	it, hit := c.lookup(key, now, peek)
	c.s.stats.count(hit, peek)
	if m.has('T') {
		c.s.stats.cmdTouch.Add(1)
		if hit {
			exptime, dead := expiry(m.ttl, now)
			if dead {
				exptime = now
			}
			c.retouch(key, now, it.CAS, exptime, dead)
			it.Exptime = exptime
			c.s.stats.touchHits.Add(1)
		} else {
			c.s.stats.touchMisses.Add(1)
		}
	}
	if !hit {
		if !m.has('q') {
			c.out.str("EN")
			c.replyFlags(m, f[1], echo{})
			c.out.crlf()
		}
		return
	}
	if m.has('v') {
		c.out.str("VA ")
		c.out.uint(uint64(len(it.Value.B)))
	} else {
		c.out.str("HD")
	}
	c.replyFlags(m, f[1], echo{ok: true, cas: it.CAS, flags: it.Flags, size: len(it.Value.B), ttl: ttlLeft(it.Exptime, now)})
	if it.Stale {
		// The first fetch of a stale item wins the right to recache it;
		// memcached orders the flags so.
		if !it.Won && c.win(key, it.CAS) {
			c.out.str(" X W")
		} else {
			c.out.str(" Z X")
		}
	}
	c.out.crlf()
	if m.has('v') {
		c.out.value(it.Value)
		c.out.crlf()
	} else {
		it.Value.Release()
	}
}

// win marks the stale item seen with this CAS as won by this client and
// reports whether no other client had won it first.
func (c *conn) win(key string, cas uint64) bool {
	won := false
	_ = c.s.backend.Update(key, func(st State) Change {
		if !st.Found || st.Item.CAS != cas || st.Item.Won {
			return Change{}
		}
		won = true
		it := st.Item
		it.Won = true
		return Change{Op: Modify, Item: it}
	})
	return won
}

// metaSet serves "ms <key> <datalen> <flags>*" and its data block: HD
// (not sent with q), NS, EX or NF. M picks the mode (S set, E add, R
// replace, A append, P prepend); C compares the CAS, with I a lower one
// stores the value stale; E stores a version (see doc.go).
func (c *conn) metaSet() {
	f, m := c.fields, &c.meta
	if len(f) < 3 {
		c.out.line("CLIENT_ERROR bad command line format")
		return
	}
	n, ok := parseLength(f[2])
	if !ok {
		c.out.line("CLIENT_ERROR bad command line format")
		return
	}
	if e := parseMetaFlags(m, f[3:], msFlags); e != "" {
		c.out.line(string(e))
		c.skip(n + 2)
		return
	}
	mode := byte(modeSet)
	if m.has('M') {
		switch m.mode {
		case modeSet, modeAdd, modeReplace, modeAppend, modePrepend:
			mode = m.mode
		default:
			c.out.line(string(errInvalidMode))
			c.skip(n + 2)
			return
		}
	}
	key, ok := c.metaKey(f[1], m)
	if !ok {
		c.skip(n + 2)
		return
	}
	c.keyText = append(c.keyText[:0], f[1]...) // the data block reuses the line's memory
	v, ok := c.readValue(n)
	if !ok {
		return
	}
	now := time.Now().Unix()
	var exptime int64
	var dead bool
	if m.has('T') {
		exptime, dead = expiry(m.ttl, now)
	}
	r := storeReq{mode: mode, value: v, flags: m.flags, exptime: exptime, dead: dead,
		compare: m.compare, hasCompare: m.has('C'), invalid: m.has('I'), version: m.version, cas: c.s.nextCAS()}
	out := c.s.store(key, r, now)
	if out.result == resNoMemory {
		c.out.line("SERVER_ERROR out of memory storing object")
		return
	}
	if out.result == resStored && m.has('q') {
		return
	}
	c.out.str(metaStoreCode[out.result])
	c.replyFlags(m, c.keyText, echo{ok: true, cas: out.cas})
	c.out.crlf()
}

// metaStoreCode is each store result's meta return code.
var metaStoreCode = [...]string{resStored: "HD", resNotStored: "NS", resExists: "EX", resNotFound: "NF"}

// metaDelete serves "md <key> <flags>*": HD (not sent with q), NF or EX.
// C compares the CAS; I marks the item stale instead (T then sets its
// expiry); E leaves a tombstone of that version (T: its lifetime in
// seconds), see doc.go.
func (c *conn) metaDelete() {
	f, m := c.fields, &c.meta
	if len(f) < 2 {
		c.out.line("ERROR")
		return
	}
	if e := parseMetaFlags(m, f[2:], mdFlags); e != "" {
		c.out.line(errInvalidOrDuplicate)
		return
	}
	key, ok := c.metaKey(f[1], m)
	if !ok {
		return
	}
	now := time.Now().Unix()
	r := deleteReq{compare: m.compare, hasCompare: m.has('C'), invalidate: m.has('I'), version: m.version, cas: c.s.nextCAS()}
	if m.has('T') {
		if m.has('I') {
			r.touch = true
			r.exptime, _ = expiry(m.ttl, now)
		} else if m.ttl > 0 {
			r.ttl = time.Duration(m.ttl) * time.Second
		}
	}
	var res storeResult
	_ = c.s.backend.Update(key, func(st State) Change {
		var ch Change
		ch, res = decideDelete(st, r, now)
		return ch
	})
	if res == resStored {
		c.s.stats.deleteHits.Add(1)
		if m.has('q') {
			return
		}
	} else {
		c.s.stats.deleteMisses.Add(1)
	}
	c.out.str(metaStoreCode[res])
	c.replyFlags(m, f[1], echo{})
	c.out.crlf()
}

// metaArith serves "ma <key> <flags>*": HD, or VA and the number (v); NF
// or NS. q hides HD. N creates a missing item with J's value; D is
// the delta; M picks I (+) or D (-).
func (c *conn) metaArith() {
	f, m := c.fields, &c.meta
	if len(f) < 2 {
		c.out.line("ERROR")
		return
	}
	if e := parseMetaFlags(m, f[2:], maFlags); e != "" {
		c.out.line(errInvalidOrDuplicate)
		return
	}
	decr := false
	if m.has('M') {
		switch m.mode {
		case 'I', '+':
		case 'D', '-':
			decr = true
		default:
			c.out.line("CLIENT_ERROR invalid mode for ma M token")
			return
		}
	}
	key, ok := c.metaKey(f[1], m)
	if !ok {
		return
	}
	now := time.Now().Unix()
	r := arithReq{decr: decr, delta: 1, compare: m.compare, hasCompare: m.has('C'), create: m.has('N'), initial: m.initial, cas: c.s.nextCAS()}
	if m.has('D') {
		r.delta = m.delta
	}
	if r.create {
		r.createExptime, _ = expiry(m.vivify, now)
	}
	if m.has('T') {
		r.touch = true
		r.exptime, _ = expiry(m.ttl, now)
	}
	out := c.applyArith(key, r)
	switch out.result {
	case resNonNumeric:
		c.out.line("CLIENT_ERROR cannot increment or decrement non-numeric value")
		return
	case resNoMemory:
		c.out.line("SERVER_ERROR out of memory")
		return
	case resStored:
		if m.has('v') {
			c.out.str("VA ")
			c.out.uint(uint64(len(out.item.Value.B)))
		} else if m.has('q') {
			return
		} else {
			c.out.str("HD")
		}
	default:
		c.out.str(metaStoreCode[out.result])
	}
	e := echo{ok: out.result == resStored, cas: out.item.CAS, ttl: ttlLeft(out.item.Exptime, now)}
	c.replyFlags(m, f[1], e)
	c.out.crlf()
	if out.result == resStored && m.has('v') {
		c.out.uint(out.number)
		c.out.crlf()
	}
}
