package memproto

import (
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// counters are the server's running statistics, under memcached's names
// (see Stats).
type counters struct {
	currConns, totalConns                      atomic.Int64
	cmdGet, getHits, getMisses, getExpired     atomic.Int64
	peekHits, peekMisses                       atomic.Int64
	cmdSet, totalItems                         atomic.Int64
	cmdTouch, touchHits, touchMisses           atomic.Int64
	cmdFlush                                   atomic.Int64
	deleteHits, deleteMisses                   atomic.Int64
	incrHits, incrMisses, decrHits, decrMisses atomic.Int64
	casHits, casMisses, casBadval              atomic.Int64
	storeTooLarge, storeNoMemory               atomic.Int64
	authCmds, authErrors                       atomic.Int64
	bytesRead, bytesWritten                    atomic.Int64
}

// count counts one key looked up by a retrieval command; a peek (mg u)
// is counted apart, so that the hit and miss figures are what clients
// asked for, not their re-checks.
func (c *counters) count(hit, peek bool) {
	switch {
	case peek && hit:
		c.peekHits.Add(1)
	case peek:
		c.peekMisses.Add(1)
	case hit:
		c.cmdGet.Add(1)
		c.getHits.Add(1)
	default:
		c.cmdGet.Add(1)
		c.getMisses.Add(1)
	}
}

func (c *counters) countCAS(res storeResult) {
	switch res {
	case resStored:
		c.casHits.Add(1)
	case resExists:
		c.casBadval.Add(1)
	case resNotFound:
		c.casMisses.Add(1)
	}
}

func (c *counters) countArith(decr, hit bool) {
	switch {
	case decr && hit:
		c.decrHits.Add(1)
	case decr:
		c.decrMisses.Add(1)
	case hit:
		c.incrHits.Add(1)
	default:
		c.incrMisses.Add(1)
	}
}

// Stats is a snapshot of a server's statistics and its backend's, named
// as memcached's "stats" names them (PeekHits and PeekMisses are
// PicPool's: lookups with mg u, not counted as hits or misses).
type Stats struct {
	CurrConnections, TotalConnections int64
	CmdGet, GetHits, GetMisses        int64
	GetExpired                        int64
	PeekHits, PeekMisses              int64
	CmdSet, CmdTouch, CmdFlush        int64
	TouchHits, TouchMisses            int64
	DeleteHits, DeleteMisses          int64
	IncrHits, IncrMisses              int64
	DecrHits, DecrMisses              int64
	CasHits, CasMisses, CasBadval     int64
	StoreTooLarge, StoreNoMemory      int64
	AuthCmds, AuthErrors              int64
	BytesRead, BytesWritten           int64
	Backend                           BackendStats
}

// Stats returns the server's statistics now.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		CurrConnections: c.currConns.Load(), TotalConnections: c.totalConns.Load(),
		CmdGet: c.cmdGet.Load(), GetHits: c.getHits.Load(), GetMisses: c.getMisses.Load(),
		GetExpired: c.getExpired.Load(), PeekHits: c.peekHits.Load(), PeekMisses: c.peekMisses.Load(),
		CmdSet: c.cmdSet.Load(), CmdTouch: c.cmdTouch.Load(), CmdFlush: c.cmdFlush.Load(),
		TouchHits: c.touchHits.Load(), TouchMisses: c.touchMisses.Load(),
		DeleteHits: c.deleteHits.Load(), DeleteMisses: c.deleteMisses.Load(),
		IncrHits: c.incrHits.Load(), IncrMisses: c.incrMisses.Load(),
		DecrHits: c.decrHits.Load(), DecrMisses: c.decrMisses.Load(),
		CasHits: c.casHits.Load(), CasMisses: c.casMisses.Load(), CasBadval: c.casBadval.Load(),
		StoreTooLarge: c.storeTooLarge.Load(), StoreNoMemory: c.storeNoMemory.Load(),
		AuthCmds: c.authCmds.Load(), AuthErrors: c.authErrors.Load(),
		BytesRead: c.bytesRead.Load(), BytesWritten: c.bytesWritten.Load(),
		Backend: s.backend.Stats(),
	}
}

// reset zeroes the counters that "stats reset" resets in memcached (not
// the connection counts).
func (c *counters) reset() {
	for _, n := range []*atomic.Int64{
		&c.totalConns, &c.cmdGet, &c.getHits, &c.getMisses, &c.getExpired, &c.peekHits, &c.peekMisses,
		&c.cmdSet, &c.totalItems, &c.cmdTouch, &c.touchHits, &c.touchMisses, &c.cmdFlush,
		&c.deleteHits, &c.deleteMisses, &c.incrHits, &c.incrMisses, &c.decrHits, &c.decrMisses,
		&c.casHits, &c.casMisses, &c.casBadval, &c.storeTooLarge, &c.storeNoMemory,
		&c.authCmds, &c.authErrors, &c.bytesRead, &c.bytesWritten,
	} {
		n.Store(0)
	}
}

// statsCommand serves "stats", "stats reset", "stats settings" and
// "stats cachedump <class> <limit>" (what memcdump reads); other
// subcommands get ERROR, as memcached answers those it does not know.
func (c *conn) statsCommand() {
	f := c.fields
	if len(f) == 1 {
		c.generalStats()
		return
	}
	switch string(f[1]) {
	case "reset":
		c.s.stats.reset()
		c.out.line("RESET")
	case "settings":
		c.settingsStats()
	case "cachedump":
		c.cachedump()
	default:
		c.out.line("ERROR")
	}
}

func (c *conn) stat(name string, v int64) {
	c.out.str("STAT ")
	c.out.str(name)
	c.out.byte(' ')
	c.out.int(v)
	c.out.crlf()
}

func (c *conn) statString(name, v string) {
	c.out.str("STAT ")
	c.out.str(name)
	c.out.byte(' ')
	c.out.line(v)
}

func (c *conn) generalStats() {
	st := c.s.Stats()
	now := time.Now()
	c.stat("pid", int64(os.Getpid()))
	c.stat("uptime", int64(now.Sub(c.s.started)/time.Second))
	c.stat("time", now.Unix())
	c.statString("version", c.s.opts.Version)
	c.stat("pointer_size", strconv.IntSize)
	c.stat("curr_connections", st.CurrConnections)
	c.stat("total_connections", st.TotalConnections)
	for _, s := range []struct {
		name string
		v    int64
	}{
		{"cmd_get", st.CmdGet}, {"cmd_set", st.CmdSet}, {"cmd_flush", st.CmdFlush}, {"cmd_touch", st.CmdTouch},
		{"get_hits", st.GetHits}, {"get_misses", st.GetMisses}, {"get_expired", st.GetExpired},
		{"get_flushed", 0}, {"peek_hits", st.PeekHits}, {"peek_misses", st.PeekMisses},
		{"delete_misses", st.DeleteMisses}, {"delete_hits", st.DeleteHits},
		{"incr_misses", st.IncrMisses}, {"incr_hits", st.IncrHits},
		{"decr_misses", st.DecrMisses}, {"decr_hits", st.DecrHits},
		{"cas_misses", st.CasMisses}, {"cas_hits", st.CasHits}, {"cas_badval", st.CasBadval},
		{"touch_hits", st.TouchHits}, {"touch_misses", st.TouchMisses},
		{"store_too_large", st.StoreTooLarge}, {"store_no_memory", st.StoreNoMemory},
		{"auth_cmds", st.AuthCmds}, {"auth_errors", st.AuthErrors},
		{"bytes_read", st.BytesRead}, {"bytes_written", st.BytesWritten},
		{"limit_maxbytes", st.Backend.LimitBytes},
		{"bytes", st.Backend.Bytes}, {"curr_items", st.Backend.Items},
		{"total_items", c.s.stats.totalItems.Load()}, {"evictions", st.Backend.Evictions},
		{"tombstones", st.Backend.Tombstones},
	} {
		c.stat(s.name, s.v)
	}
	c.statString("policy", st.Backend.Policy)
	c.out.line("END")
}

// settingsStats reports the settings memcached reports that have a
// meaning here.
func (c *conn) settingsStats() {
	b := c.s.backend.Stats()
	c.stat("maxbytes", b.LimitBytes)
	c.stat("item_size_max", int64(c.s.opts.MaxValueBytes))
	c.statString("evictions", "on")
	c.statString("cas_enabled", "yes")
	c.statString("auth_enabled_ascii", map[bool]string{true: "yes", false: "no"}[c.s.opts.Token != ""])
	c.statString("policy", b.Policy)
	c.out.line("END")
}

// cachedumpMax bounds one cachedump reply, as memcached's 2 MB does.
const cachedumpMax = 2 << 20

// cachedump serves "stats cachedump <class> <limit>": memcached lists the
// items of one slab class; here every item is in class 1 (the others are
// empty), so that memcdump, which asks each class in turn, lists each
// item once. Lines are "ITEM <key> [<bytes> b; <exptime> s]".
func (c *conn) cachedump() {
	f := c.fields
	if len(f) < 4 {
		c.out.line("CLIENT_ERROR bad command line")
		return
	}
	class, ok1 := parseUint(f[2], 255)
	limit, ok2 := parseUint(f[3], 1<<31)
	if !ok1 || !ok2 {
		c.out.line("CLIENT_ERROR bad command line format")
		return
	}
	if class == 1 {
		start, listed := c.out.size, uint64(0)
		now := time.Now().Unix()
		c.s.backend.Range(func(key string, it Item) bool {
			if expired(it.Exptime, now) {
				return true
			}
			c.out.str("ITEM ")
			c.out.str(key)
			c.out.str(" [")
			c.out.uint(uint64(len(it.Value.B)))
			c.out.str(" b; ")
			c.out.int(it.Exptime)
			c.out.str(" s]\r\n")
			listed++
			return (limit == 0 || listed < limit) && c.out.size-start < cachedumpMax
		})
	}
	c.out.line("END")
}
