package memproto

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// protoCase is one exchange on a fresh connection to an empty server:
// what is sent and the whole reply. Where want holds a "#", CAS values
// and the version string are normalized (see normalize), since they
// differ between servers.
type protoCase struct {
	name string
	in   string
	want string
	// differs, when set, says why memcached 1.6.18 answers otherwise, on
	// purpose (see doc.go); such cases are not compared with memcached.
	differs string
}

var (
	key250 = strings.Repeat("k", MaxKeyBytes)
	key251 = strings.Repeat("k", MaxKeyBytes+1)
)

// classicCases are the classic commands. TestProtocolMatchesMemcached
// checks that memcached answers each the same, so the wants are
// memcached's own replies.
var classicCases = []protoCase{
	{"set get", "set a 0 0 1\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"get many keys", "set a 0 0 1\r\nx\r\nset b 5 0 2\r\nyy\r\nget a nope b a\r\n",
		"STORED\r\nSTORED\r\nVALUE a 0 1\r\nx\r\nVALUE b 5 2\r\nyy\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"gets", "set a 7 0 2\r\nxy\r\ngets a\r\n", "STORED\r\nVALUE a 7 2 #\r\nxy\r\nEND\r\n", ""},
	{"get spaces between keys", "set a 0 0 1\r\nx\r\nget  a \r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"bare newlines", "set a 0 0 1\nx\r\nget a\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"empty value", "set a 0 0 0\r\n\r\nget a\r\n", "STORED\r\nVALUE a 0 0\r\n\r\nEND\r\n", ""},
	{"largest flags", "set a 4294967295 0 1\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 4294967295 1\r\nx\r\nEND\r\n", ""},
	{"unknown command", "foo\r\n", "ERROR\r\n", ""},
	{"upper case command", "GET a\r\n", "ERROR\r\n", ""},
	{"empty line", "\r\n", "ERROR\r\n", ""},
	{"get without key", "get\r\n", "ERROR\r\n", ""},
	{"longest key", "get " + key250 + "\r\n", "END\r\n", ""},
	{"key too long", "get " + key251 + "\r\n", "CLIENT_ERROR bad command line format\r\n", ""},
	{"set too few fields", "set a 0 0\r\n", "ERROR\r\n", ""},
	{"set negative length", "set a 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n", ""},
	{"set bad length", "set a 0 0 x\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n", ""},
	{"set bad data chunk", "set a 0 0 1\r\nxyz\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n", ""},
	{"set extra field", "set a 0 0 1 junk\r\nx\r\n", "STORED\r\n", ""},
	{"set too many fields", "set a 0 0 1 noreply junk\r\nx\r\n", "ERROR\r\nERROR\r\n", ""},
	{"set noreply", "set a 0 0 1 noreply\r\nx\r\nget a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"set too large", "set a 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nget a\r\n",
		"SERVER_ERROR object too large for cache\r\nEND\r\n", ""},
	{"add", "add a 0 0 1\r\nx\r\nadd a 0 0 1\r\ny\r\nget a\r\n", "STORED\r\nNOT_STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"replace", "replace a 0 0 1\r\nx\r\nset a 0 0 1\r\nx\r\nreplace a 3 0 1\r\ny\r\nget a\r\n",
		"NOT_STORED\r\nSTORED\r\nSTORED\r\nVALUE a 3 1\r\ny\r\nEND\r\n", ""},
	{"append prepend keep flags", "append a 0 0 1\r\nx\r\nset a 5 0 1\r\nb\r\nprepend a 9 9 1\r\na\r\nappend a 0 0 1\r\nc\r\nget a\r\n",
		"NOT_STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n", ""},
	{"cas missing", "cas a 0 0 1 1\r\nx\r\n", "NOT_FOUND\r\n", ""},
	{"cas stale", "set a 0 0 1\r\nx\r\ncas a 0 0 1 999999999\r\ny\r\nget a\r\n", "STORED\r\nEXISTS\r\nVALUE a 0 1\r\nx\r\nEND\r\n", ""},
	{"cas without unique", "cas a 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n", ""},
	{"delete", "set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\nget a\r\n", "STORED\r\nDELETED\r\nNOT_FOUND\r\nEND\r\n", ""},
	{"delete zero and noreply", "set a 0 0 1\r\nx\r\ndelete a 0\r\nset a 0 0 1\r\nx\r\ndelete a 0 noreply\r\nget a\r\n",
		"STORED\r\nDELETED\r\nSTORED\r\nEND\r\n", ""},
	{"delete with time", "delete a 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n", ""},
	{"delete without key", "delete\r\n", "ERROR\r\n", ""},
	{"delete too many", "delete a b c d e\r\n", "ERROR\r\n", ""},
	{"incr decr", "set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr n 18446744073709551615\r\n",
		"STORED\r\n15\r\n0\r\n18446744073709551615\r\n", ""},
	{"incr wraps", "set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\n", "STORED\r\n1\r\n", ""},
	{"incr missing", "incr n 1\r\ndecr n 1\r\n", "NOT_FOUND\r\nNOT_FOUND\r\n", ""},
	{"incr non-numeric", "set n 0 0 1\r\nx\r\nincr n 1\r\n", "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n", ""},
	{"incr bad delta", "incr n x\r\nincr n -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\n", ""},
	{"incr noreply", "set n 0 0 1\r\n1\r\nincr n 1 noreply\r\nget n\r\n", "STORED\r\nVALUE n 0 1\r\n2\r\nEND\r\n", ""},
	{"touch", "touch a 10\r\nset a 0 0 1\r\nx\r\ntouch a 10\r\ntouch a x\r\n",
		"NOT_FOUND\r\nSTORED\r\nTOUCHED\r\nCLIENT_ERROR invalid exptime argument\r\n", ""},
	{"touch to the past", "set a 0 0 1\r\nx\r\ntouch a -1\r\nget a\r\n", "STORED\r\nTOUCHED\r\nEND\r\n", ""},
	{"gat", "set a 0 0 1\r\nx\r\ngat 100 a nope\r\ngats 100 a\r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\nVALUE a 0 1 #\r\nx\r\nEND\r\n", ""},
	{"gat without keys", "gat 10\r\ngat\r\n", "END\r\nERROR\r\n", ""},
	{"gat bad exptime", "gats x a\r\n", "CLIENT_ERROR invalid exptime argument\r\n", ""},
	{"negative exptime", "set a 0 -1 1\r\nx\r\nget a\r\n", "STORED\r\nEND\r\n", ""},
	{"absolute exptime past", "set a 0 1000000000 1\r\nx\r\nget a\r\n", "STORED\r\nEND\r\n", ""},
	{"flush_all", "set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\nflush_all 0\r\nflush_all noreply\r\nflush_all -1\r\n",
		"STORED\r\nOK\r\nEND\r\nOK\r\nOK\r\n", ""},
	{"flush_all bad delay", "flush_all x\r\n", "CLIENT_ERROR invalid exptime argument\r\n", ""},
	{"version", "version\r\nversion foo bar\r\n", "VERSION #\r\nVERSION #\r\n", ""},
	{"verbosity", "verbosity 1\r\nverbosity\r\nverbosity 1 noreply\r\nverbosity foo bar my\r\n", "OK\r\nERROR\r\nERROR\r\n", ""},
	{"stats unknown", "stats noreply\r\n", "ERROR\r\n", ""},
	{"stats reset", "stats reset\r\n", "RESET\r\n", ""},
	{"control character in key", "set a\x01b 0 0 1\r\nx\r\nget a\x01b\r\n", "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\n",
		"memcached takes control characters in keys"},
	{"flags over 32 bits", "set a 4294967296 0 1\r\nx\r\nget a\r\n", "CLIENT_ERROR bad command line format\r\nEND\r\n",
		"memcached stores such flags as 0"},
	{"bad line skips its data", "set a x 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\n",
		"memcached reads the data block as a command"},
}

// metaCases are the meta commands, compared with memcached likewise.
var metaCases = []protoCase{
	{"ms mg", "ms m 2\r\nhi\r\nmg m v f t c k s\r\n", "HD\r\nVA 2 f0 t-1 c# km s2\r\nhi\r\n", ""},
	{"ms flags and opaque", "ms m 2 F7 c\r\nhi\r\nmg m v f c k s O123 q\r\n", "HD c#\r\nVA 2 f7 c# km s2 O123\r\nhi\r\n", ""},
	{"mg without v", "ms m 2\r\nhi\r\nmg m s\r\nmg m\r\nmg m q k\r\n", "HD\r\nHD s2\r\nHD\r\nHD km\r\n", ""},
	{"mg miss", "mg zz v\r\nmg zz v k O1 c f t s\r\nmg zz v q k\r\n", "EN\r\nEN kzz O1\r\n", ""},
	{"mg without key", "mg\r\n", "ERROR\r\n", ""},
	{"mg key too long", "mg " + key251 + " v\r\n", "CLIENT_ERROR bad command line format\r\n", ""},
	{"mg invalid flag", "mg m !\r\nmg m s v zz\r\nmg m 12\r\n", "CLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid flag\r\n", ""},
	{"mg duplicate flag", "mg m v v\r\n", "CLIENT_ERROR duplicate flag\r\n", ""},
	{"mg bad token", "mg m Tx\r\n", "CLIENT_ERROR bad token in command line format\r\n", ""},
	{"mg opaque too long", "mg m v O" + strings.Repeat("1", 33) + "\r\n", "CLIENT_ERROR opaque token too long\r\n", ""},
	{"mg ignores P and L", "ms m 1\r\nx\r\nmg m v Pfoo L/bar\r\n", "HD\r\nVA 1\r\nx\r\n", ""},
	{"ms q", "ms m 2 q\r\nhi\r\nmg m s v q\r\n", "VA 2 s2\r\nhi\r\n", ""},
	{"ms add exists", "ms m 2\r\nhi\r\nms m 2 c k O5 ME\r\nho\r\n", "HD\r\nNS c0 km O5\r\n", ""},
	{"ms modes", "ms m 1 MR\r\na\r\nms m 1 MA\r\nb\r\nms m 1 ME\r\nb\r\nms m 1 MA\r\nc\r\nms m 1 MP\r\na\r\nms m 1 MR\r\nz\r\nmg m v\r\nms m 1 MS\r\ny\r\nmg m v\r\n",
		"NS\r\nNS\r\nHD\r\nHD\r\nHD\r\nHD\r\nVA 1\r\nz\r\nHD\r\nVA 1\r\ny\r\n", ""},
	{"ms append", "ms m 1\r\na\r\nms m 2 MA\r\nbc\r\nms m 1 MP\r\n_\r\nmg m v\r\n", "HD\r\nHD\r\nHD\r\nVA 4\r\n_abc\r\n", ""},
	{"ms invalid mode", "ms m 2 MX\r\nhi\r\nms m 2 Ms\r\nhi\r\n", "CLIENT_ERROR invalid mode for ms M token\r\nCLIENT_ERROR invalid mode for ms M token\r\n", ""},
	{"ms compare", "ms m 2\r\nhi\r\nms m 2 C1 c k\r\nhi\r\nms nope 2 C1 c k\r\nhi\r\n", "HD\r\nEX c0 km\r\nNF c0 knope\r\n", ""},
	{"ms invalid flag skips data", "ms m 2 !\r\nhi\r\nms m 2 S2\r\nhi\r\n", "CLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid flag\r\n", ""},
	{"ms duplicate flag", "ms m 2 c c\r\nhi\r\n", "CLIENT_ERROR duplicate flag\r\n", ""},
	{"ms bad token", "ms m 2 T\r\nhi\r\nms m 2 Tx\r\nhi\r\n", "CLIENT_ERROR bad token in command line format\r\nCLIENT_ERROR bad token in command line format\r\n", ""},
	{"ms without length", "ms m\r\nms m x\r\nhi\r\n", "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n", ""},
	{"ms negative length", "ms m -1\r\n", "CLIENT_ERROR bad command line format\r\n", ""},
	{"ms expired", "ms m 2 T-1\r\nhi\r\nmg m v\r\n", "HD\r\nEN\r\n", ""},
	{"ms too large", "ms m 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\nmg m v\r\n", "SERVER_ERROR object too large for cache\r\nEN\r\n", ""},
	{"md", "md m\r\nms m 1\r\nx\r\nmd m k O2\r\nmd m q\r\nmd m q\r\n", "NF\r\nHD\r\nHD km O2\r\nNF\r\nNF\r\n", ""},
	{"md compare", "ms m 1\r\nx\r\nmd m C1\r\nmg m v\r\n", "HD\r\nEX\r\nVA 1\r\nx\r\n", ""},
	{"md flag errors", "md m x\r\nmd m Tx\r\nmd m q q\r\n", "CLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\n", ""},
	{"md invalidate", "ms m 2\r\nhi\r\nmd m I\r\nmg m s\r\nmg m s\r\n", "HD\r\nHD\r\nHD s2 X W\r\nHD s2 Z X\r\n", ""},
	{"ma", "ma n\r\nma n N0 J5 v\r\nma n v\r\nma n v D10 MD\r\nma n M+ D3 v\r\nma n v M-\r\n",
		"NF\r\nVA 1\r\n5\r\nVA 1\r\n6\r\nVA 1\r\n0\r\nVA 1\r\n3\r\nVA 1\r\n2\r\n", ""},
	{"ma flags", "ma n N0 k O2 c\r\nma n q\r\nma nope q\r\n", "HD kn O2 c#\r\nNF\r\n", ""},
	{"ma errors", "ma n MX\r\nma n Mi\r\nma n Dx\r\nma n D\r\n",
		"CLIENT_ERROR invalid mode for ma M token\r\nCLIENT_ERROR invalid mode for ma M token\r\nCLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\n", ""},
	{"ma non-numeric", "ms n 1\r\nx\r\nma n\r\n", "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n", ""},
	{"mn", "mn x\r\nversion\r\n", "MN\r\nVERSION #\r\n", ""},
	{"base64 keys", "ms bWVtYw== 1 b k\r\nx\r\nmg bWVtYw== b v k\r\nget memc\r\n", "HD kbWVtYw== b\r\nVA 1 kbWVtYw== b\r\nx\r\nVALUE memc 0 1\r\nx\r\nEND\r\n", ""},
	{"base64 key invalid", "mg *** b\r\n", "CLIENT_ERROR error decoding key\r\n", ""},
	{"base64 bad key skips data", "ms *** 1 b\r\nx\r\n", "CLIENT_ERROR error decoding key\r\n", "memcached reads the data block as a command"},
	{"ms key too long skips data", "ms " + key251 + " 2\r\nhi\r\n", "CLIENT_ERROR bad command line format\r\n", "memcached reads the data block as a command"},
	{"mg h and l", "mg m h l\r\n", "CLIENT_ERROR invalid flag\r\n", "memcached keeps hit and access times; this server does not"},
	{"ms E is a version", "ms m 1 E5\r\nx\r\nmg m c v\r\n", "HD\r\nVA 1 c5\r\nx\r\n", "memcached 1.6.18 has no E"},
}

var (
	casValue   = regexp.MustCompile(`(?m)^(VALUE \S+ \d+ \d+) \d+\r$`)
	casFlag    = regexp.MustCompile(` c[1-9]\d*`)
	versionRep = regexp.MustCompile(`(?m)^VERSION \S+\r$`)
)

// normalize hides what differs between servers that answer alike: CAS
// values ("#" in a VALUE line, "c#" in a meta reply; c0 stays), and the
// version.
func normalize(s string) string {
	s = casValue.ReplaceAllString(s, "$1 #\r")
	s = casFlag.ReplaceAllString(s, " c#")
	return versionRep.ReplaceAllString(s, "VERSION #\r")
}

// runCases runs each case on its own connection to addr, after a flush.
func runCases(t *testing.T, addr string, cases []protoCase, skipDiffering bool) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if skipDiffering && tc.differs != "" {
				t.Skipf("differs from memcached on purpose: %s", tc.differs)
			}
			r := dialRaw(t, addr)
			if got := r.exchange("flush_all noreply\r\n"); got != "" {
				t.Fatalf("flush_all noreply answered %q", got)
			}
			got := r.exchange(tc.in)
			if strings.Contains(tc.want, "#") {
				got = normalize(got)
			}
			if got != tc.want {
				t.Errorf("sent %s\ngot  %s\nwant %s", brief(tc.in), brief(got), brief(tc.want))
			}
		})
	}
}

func TestProtocol(t *testing.T) {
	addr, _ := startServer(t, Options{})
	runCases(t, addr, classicCases, false)
	runCases(t, addr, metaCases, false)
}

// TestProtocolMatchesMemcached runs the same cases against Debian's
// memcached: the wants are memcached's replies, not this server's idea
// of them.
func TestProtocolMatchesMemcached(t *testing.T) {
	addr := startMemcached(t)
	runCases(t, addr, classicCases, true)
	runCases(t, addr, metaCases, true)
}

// TestExpiryTimes checks relative, absolute and 30-day expiry times and
// what mg t reports, inside a bubble whose clock only moves on sleeps.
func TestExpiryTimes(t *testing.T) {
	addr, _ := startServer(t, Options{})
	r := dialRaw(t, addr)
	now := time.Now().Unix()
	in := fmt.Sprintf("set rel 0 100 1\r\nx\r\nset abs 0 %d 1\r\nx\r\nset month 0 %d 1\r\nx\r\nset over 0 %d 1\r\nx\r\n",
		now+200, maxRelativeExptime, maxRelativeExptime+1)
	if got := r.exchange(in); got != "STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\n" {
		t.Fatalf("sets answered %q", got)
	}
	got := r.exchange("mg rel t\r\nmg abs t\r\nmg month t\r\nmg over t\r\n")
	var rel, abs, month int64
	if _, err := fmt.Sscanf(got, "HD t%d\r\nHD t%d\r\nHD t%d\r\nEN\r\n", &rel, &abs, &month); err != nil {
		t.Fatalf("mg t answered %q: %v", got, err)
	}
	// The clock may tick between the set and the mg: allow a second.
	for _, c := range []struct {
		name      string
		got, want int64
	}{{"rel", rel, 100}, {"abs", abs, 200}, {"month", month, maxRelativeExptime}} {
		if c.got > c.want || c.got < c.want-2 {
			t.Errorf("%s: t%d, want about t%d", c.name, c.got, c.want)
		}
	}
}
