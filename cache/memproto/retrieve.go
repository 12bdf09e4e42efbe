package memproto

import "time"

// retrieve serves get, gets (withCAS), gat and gats (touch):
//
//	get <key>*          gat <exptime> <key>*
//
// Each hit is "VALUE <key> <flags> <bytes> [<cas>]" and its data; "END"
// follows the last. A malformed key fails the whole command, as in
// memcached, before anything is looked up. A get without keys is an
// ERROR, a gat without keys just END, as memcached answers them.
func (c *conn) retrieve(withCAS, touch bool) {
	now := time.Now().Unix()
	keys := c.fields[1:]
	var exptime int64
	var dead bool
	if touch {
		if len(keys) == 0 {
			c.out.line("ERROR")
			return
		}
		t, ok := parseInt(keys[0])
		if !ok {
			c.out.line("CLIENT_ERROR invalid exptime argument")
			return
		}
		exptime, dead = expiry(t, now)
		keys = keys[1:]
	} else if len(keys) == 0 {
		c.out.line("ERROR")
		return
	}
	for _, k := range keys {
		if !validKey(k) {
			c.out.line("CLIENT_ERROR bad command line format")
			return
		}
	}
	for _, k := range keys {
		key := string(k)
		it, ok := c.lookup(key, now, false)
		if touch {
			c.s.stats.cmdTouch.Add(1)
			if !ok {
				c.s.stats.touchMisses.Add(1)
				continue
			}
			c.s.stats.touchHits.Add(1)
			c.retouch(key, now, it.CAS, exptime, dead)
		} else {
			c.s.stats.count(ok, false)
			if !ok {
				continue
			}
		}
		c.out.str("VALUE ")
		c.out.bytes(k)
		c.out.byte(' ')
		c.out.uint(uint64(it.Flags))
		c.out.byte(' ')
		c.out.uint(uint64(len(it.Value.B)))
		if withCAS {
			c.out.byte(' ')
			c.out.uint(it.CAS)
		}
		c.out.crlf()
		c.out.value(it.Value)
		c.out.crlf()
	}
	c.out.line("END")
}

// lookup returns key's item unless it is missing or expired; the caller
// owns the item's value. It counts nothing but expired items.
func (c *conn) lookup(key string, now int64, peek bool) (Item, bool) {
	it, ok := c.s.backend.Get(key, peek)
	if !ok {
		return Item{}, false
	}
	if expired(it.Exptime, now) {
		it.Value.Release()
		c.s.stats.getExpired.Add(1)
		c.reap(key, it.CAS, now)
		return Item{}, false
	}
	return it, true
}

// reap removes an expired item, unless it changed since it was seen.
func (c *conn) reap(key string, cas uint64, now int64) {
	_ = c.s.backend.Update(key, func(st State) Change {
		if st.Found && st.Item.CAS == cas && expired(st.Item.Exptime, now) {
			return Change{Op: Delete}
		}
		return Change{}
	})
}

// retouch sets the expiry of key's live item (gat, touch, mg T), or
// removes it when the new expiry is already past. With cas above 0, only
// the item seen with that CAS. It reports whether there was such an item.
func (c *conn) retouch(key string, now int64, cas uint64, exptime int64, dead bool) bool {
	found := false
	_ = c.s.backend.Update(key, func(st State) Change {
		if !st.Found || expired(st.Item.Exptime, now) || cas != 0 && st.Item.CAS != cas {
			return Change{}
		}
		found = true
		if dead {
			return Change{Op: Delete}
		}
		it := st.Item
		it.Exptime = exptime
		return Change{Op: Modify, Item: it}
	})
	return found
}
