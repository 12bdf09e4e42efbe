package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/picpool/picpool/cache/memproto"
	"github.com/picpool/picpool/cache/nodekey"
	"github.com/picpool/picpool/cache/partition"
)

const testToken = "test-token"

// testNode is a node served on loopback: HTTP and the data port.
type testNode struct {
	*Node
	addr     string // HTTP host:port
	dataAddr string // data port host:port
	client   *Client
	stop     func()
}

// startNode serves a new node on 127.0.0.1 until the test ends.
func startNode(t testing.TB, opts Options) *testNode {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{Handler: n.Handler()}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(hl) })
	wg.Go(func() { n.ServeData(ctx, bl) })
	n.dataAddr.Store(bl.Addr().String()) // before ServeData runs: clients may ask at once
	tn := &testNode{Node: n, addr: hl.Addr().String(), dataAddr: bl.Addr().String()}
	tn.client = NewClient(tn.addr, opts.Token, &http.Client{}, 5*time.Second)
	var once sync.Once
	tn.stop = func() {
		once.Do(func() {
			cancel()
			srv.Close()
			wg.Wait()
			tn.client.Close()
		})
	}
	t.Cleanup(tn.stop)
	return tn
}

func (tn *testNode) request(t *testing.T, method, path, token string, h http.Header, body io.Reader) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+tn.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestNodeAuth(t *testing.T) {
	tn := startNode(t, Options{})
	if _, err := tn.client.Set(t.Context(), "k", 1, []byte("secret")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/v1/items/k", "", 401},
		{"GET", "/v1/items/k", "wrong", 401},
		{"GET", "/v1/items/k", testToken + "x", 401},
		{"GET", "/v1/stats", "", 401},
		{"PUT", "/v1/config", "", 401},
		{"DELETE", "/v1/items", "", 401},
		{"GET", "/v1/partitions/1", "", 401},
		{"GET", "/v1/no-such-route", "", 401},
		{"GET", "/v1/items/k", testToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.token, func(t *testing.T) {
			code, body, _ := tn.request(t, tt.method, tt.path, tt.token, nil, nil)
			if code != tt.want {
				t.Fatalf("status %d, want %d (%s)", code, tt.want, body)
			}
			if code == 401 && strings.Contains(body, "secret") {
				t.Fatal("401 answer leaks the value")
			}
		})
	}
	if _, _, hit, _ := tn.client.Peek(t.Context(), "k"); !hit {
		t.Fatal("unauthorized requests changed the node")
	}

	// The data port refuses a wrong token, and anything before it.
	for _, token := range []string{"", "wrong"} {
		c := memproto.NewClient(tn.dataAddr, memproto.ClientOptions{Token: token})
		_, _, hit, err := c.Get(t.Context(), "k")
		c.Close()
		if err == nil || hit {
			t.Fatalf("data port get with token %q: hit %v, err %v; want refused", token, hit, err)
		}
	}
	c, err := net.Dial("tcp", tn.dataAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "get k\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "CLIENT_ERROR unauthenticated\r\n" {
		t.Fatalf("get before auth: %q, %v; want CLIENT_ERROR unauthenticated", line, err)
	}
}

// TestNodeItemsBothPaths runs the item operations over HTTP and over the
// data port and expects the same behaviour from both.
func TestNodeItemsBothPaths(t *testing.T) {
	for _, path := range []string{"http", "data"} {
		t.Run(path, func(t *testing.T) {
			tn := startNode(t, Options{})
			c := tn.client
			if path == "http" {
				c.mu.Lock()
				c.dataClosed = true // never discover the data port
				c.mu.Unlock()
			} else if c.dataClient(t.Context()) == nil {
				t.Fatal("data port not discovered")
			}
			ctx := t.Context()
			if _, _, hit, err := c.Get(ctx, "cat"); hit || err != nil {
				t.Fatalf("Get on empty node: hit %v err %v", hit, err)
			}
			value := bytes.Repeat([]byte("meow"), 10000)
			if stored, err := c.Set(ctx, "cat", 3, value); !stored || err != nil {
				t.Fatalf("Set v3: stored %v err %v", stored, err)
			}
			got, v, hit, err := c.Get(ctx, "cat")
			if !hit || err != nil || v != 3 || !bytes.Equal(got, value) {
				t.Fatalf("Get = %d bytes v%d hit %v err %v; want the value at v3", len(got), v, hit, err)
			}
			// An older version is ignored; an equal or newer one replaces.
			if stored, err := c.Set(ctx, "cat", 2, []byte("old")); stored || err != nil {
				t.Fatalf("Set v2 over v3: stored %v err %v; want ignored", stored, err)
			}
			if stored, _ := c.Set(ctx, "cat", 4, []byte("new")); !stored {
				t.Fatal("Set v4 over v3 was ignored")
			}
			if got, v, _, _ := c.Get(ctx, "cat"); string(got) != "new" || v != 4 {
				t.Fatalf("Get = %q v%d, want new v4", got, v)
			}
			// A versioned delete keeps older versions out, not newer ones.
			if err := c.Delete(ctx, "cat", 6); err != nil {
				t.Fatal(err)
			}
			if stored, _ := c.Set(ctx, "cat", 5, []byte("stale")); stored {
				t.Fatal("Set v5 after delete at v6 was stored")
			}
			if stored, _ := c.Set(ctx, "cat", 6, []byte("six")); !stored {
				t.Fatal("Set v6 after delete at v6 was ignored")
			}
			if got, _, _, _ := c.Get(ctx, "cat"); string(got) != "six" {
				t.Fatalf("Get = %q, want six", got)
			}
			if err := c.Clear(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, hit, _ := c.Get(ctx, "cat"); hit {
				t.Fatal("hit after Clear")
			}
			st, err := c.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Hits != 3 || st.Misses != 2 {
				t.Fatalf("stats hits %d misses %d, want 3 and 2", st.Hits, st.Misses)
			}
		})
	}
}

func TestNodeRefusesBadKeysAndBodies(t *testing.T) {
	tn := startNode(t, Options{Config: Config{Capacity: 1 << 20, Policy: "lru"}, MaxItemBytes: 1000})
	long := strings.Repeat("k", 251)
	tests := []struct {
		name    string
		method  string
		path    string
		h       http.Header
		body    io.Reader
		want    int
		message string
	}{
		{"empty key", "GET", "/v1/items/", nil, nil, 400, "the key is empty"},
		{"long key", "GET", "/v1/items/" + long, nil, nil, 400, "251 bytes long"},
		{"250-byte key", "GET", "/v1/items/" + long[:250], nil, nil, 404, "miss"},
		{"invalid UTF-8", "GET", "/v1/items/a%FFb", nil, nil, 400, "not valid UTF-8"},
		{"slash in key", "GET", "/v1/items/a%2Fb", nil, nil, 404, "miss"},
		{"bad version", "PUT", "/v1/items/k", http.Header{VersionHeader: {"-1"}}, strings.NewReader("x"), 400, "non-negative integer"},
		{"over the maximum", "PUT", "/v1/items/k", nil, strings.NewReader(strings.Repeat("x", 1001)), 413, "exceeds this node's limit of 1000"},
		{"chunked over the maximum", "PUT", "/v1/items/k", nil, io.MultiReader(strings.NewReader(strings.Repeat("x", 1001))), 413, "exceeds this node's limit"},
		{"at the maximum", "PUT", "/v1/items/k", nil, strings.NewReader(strings.Repeat("x", 1000)), 204, ""},
		{"bad config", "PUT", "/v1/config", nil, strings.NewReader(`{"capacity": 10, "policy": "mru"}`), 400, `unknown policy "mru"`},
		{"negative capacity", "PUT", "/v1/config", nil, strings.NewReader(`{"capacity": -1, "policy": "lru"}`), 400, "negative capacity"},
		{"config typo", "PUT", "/v1/config", nil, strings.NewReader(`{"capacty": 10}`), 400, "unknown field"},
		{"bad partition", "GET", "/v1/partitions/256", nil, nil, 400, "0..255"},
		{"bad partitioner", "GET", "/v1/partitions/1?partitioner=x", nil, nil, 400, "unknown partitioner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := tn.request(t, tt.method, tt.path, testToken, tt.h, tt.body)
			if code != tt.want || !strings.Contains(body, tt.message) {
				t.Fatalf("status %d %q, want %d containing %q", code, body, tt.want, tt.message)
			}
		})
	}
}

// TestNodeRefusesLargeBodyUnread: a 413 must come before the body is read
// whole, so a client sending a huge body learns at once. The client sends
// only the headers of a 1 GB upload and waits for the answer.
func TestNodeRefusesLargeBodyUnread(t *testing.T) {
	tn := startNode(t, Options{Config: Config{Capacity: 1 << 20, Policy: "lru"}})
	c, err := net.Dial("tcp", tn.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /v1/items/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000000000\r\n\r\n", testToken)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestConfigureKeepsWhatFits(t *testing.T) {
	tn := startNode(t, Options{Config: Config{Capacity: 1 << 20, Policy: "lru"}})
	ctx := t.Context()
	for i := range 20 {
		tn.client.Set(ctx, fmt.Sprintf("k%02d", i), uint64(i+1), make([]byte, 1000))
	}
	tn.client.Get(ctx, "k00") // the most recently used now
	before, _ := tn.client.Status(ctx)
	if before.Items != 20 || before.Bytes%20 != 0 {
		t.Fatalf("before the switch: %+v; want 20 items of one size", before)
	}
	perItem := before.Bytes / 20
	if err := tn.client.Configure(ctx, Config{Capacity: 5 * perItem, Policy: "RR"}); err != nil {
		t.Fatal(err)
	}
	st, _ := tn.client.Status(ctx)
	if st.Config.Policy != "random" || st.Items != 5 || st.Bytes != 5*perItem {
		t.Fatalf("after switching to RR at 5 items: %+v", st)
	}
	// The most recently used items made the move.
	for _, k := range []string{"k00", "k19", "k18", "k17", "k16"} {
		if _, v, hit, _ := tn.client.Get(ctx, k); !hit || v == 0 {
			t.Errorf("%s lost in the policy switch", k)
		}
	}
}

func TestNodePartitionsAndImport(t *testing.T) {
	src := startNode(t, Options{})
	dst := startNode(t, Options{})
	ctx := t.Context()
	pt := partition.Rendezvous{}
	part := func(nk string) int {
		k, _, ok := nodekey.Parse(nk)
		if !ok {
			t.Fatalf("%q is not a node key", nk)
		}
		return partition.OfHash(pt, k.Hash())
	}
	want := map[string]string{}
	for i := range 300 {
		k := nodekey.Of(fmt.Sprintf("key-%d", i)).In(nodekey.Namespace{})
		src.client.Set(ctx, k, uint64(i+1), []byte("value of "+k))
		if part(k) < 64 {
			want[k] = "value of " + k
		}
	}
	var parts []int
	for p := range 64 {
		parts = append(parts, p)
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	got := map[string]string{}
	gone := nodekey.Of("key-gone").In(nodekey.Namespace{})
	src.client.Delete(ctx, gone, 99) // a tombstone, in partition:
	tombPart := part(gone)
	parts = append(parts, tombPart)
	var tombs []Entry
	err := src.client.Partitions(ctx, partition.NameRendezvous, parts, func(e Entry) error {
		if e.Tombstone {
			tombs = append(tombs, e)
		} else if part(e.Key) < 64 {
			got[e.Key] = string(e.Value)
		}
		return WriteEntry(bw, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	if len(got) != len(want) {
		t.Fatalf("streamed %d entries of partitions 0..63, want %d", len(got), len(want))
	}
	if len(tombs) != 1 || tombs[0].Key != gone || tombs[0].Version != 99 || len(tombs[0].Value) != 0 {
		t.Fatalf("tombstones streamed: %+v, want key-gone at 99", tombs)
	}
	res, err := dst.client.Import(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored < len(want) || res.Stale != 0 || res.Tombstones != 1 {
		t.Fatalf("import %+v, want %d stored and 1 tombstone", res, len(want))
	}
	// The tombstone came along: the new node refuses older versions too.
	if stored, _ := dst.client.Set(ctx, gone, 98, []byte("stale")); stored {
		t.Fatal("the moved tombstone did not keep version 98 out")
	}
	// Dropping partitions removes their items and nothing else.
	dropped, err := src.client.DropPartitions(ctx, partition.NameRendezvous, parts[:64])
	if err != nil || dropped != len(want) {
		t.Fatalf("DropPartitions = %d, %v; want %d", dropped, err, len(want))
	}
	if st, _ := src.client.Status(ctx); st.Items != int64(300-len(want)) {
		t.Fatalf("%d items left after the drop, want %d", st.Items, 300-len(want))
	}
	for k, v := range want {
		if got, _, hit, _ := dst.client.Get(ctx, k); !hit || string(got) != v {
			t.Fatalf("%s not imported: %q %v", k, got, hit)
		}
	}
	// A cut stream is refused with a clear message.
	code, body, _ := dst.request(t, "POST", "/v1/items", testToken, nil, strings.NewReader("\x00\x05\x00"))
	if code != 400 || !strings.Contains(body, "unexpected EOF") {
		t.Fatalf("cut stream: %d %q", code, body)
	}
}

// statsRecorder is a StatsPublisher that keeps what it receives.
type statsRecorder struct {
	mu  sync.Mutex
	got []Stats
}

func (r *statsRecorder) PublishStats(_ context.Context, s Stats) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
	return nil
}

func TestNodePublishesStatsEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &statsRecorder{}
		n, err := New(Options{Token: "t", Name: "node-a", Publisher: rec})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { n.Run(ctx); close(done) }()
		n.set("a", 1, memproto.Value{B: make([]byte, 10)})
		get := func(key string) {
			if it, ok := n.store.Get(key, false); ok {
				it.Value.Release()
			}
		}
		get("a")
		get("b")
		time.Sleep(5*time.Second + time.Millisecond)
		get("a")
		time.Sleep(5 * time.Second)
		cancel()
		<-done
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.got) != 2 {
			t.Fatalf("published %d times in 10 s, want 2: %+v", len(rec.got), rec.got)
		}
		first, second := rec.got[0], rec.got[1]
		if first.Node != "node-a" || first.Requests != 3 || first.Hits != 1 || first.Misses != 1 || first.Items != 1 {
			t.Errorf("first interval %+v, want 3 requests, 1 hit, 1 miss, 1 item", first)
		}
		if second.Requests != 1 || second.Hits != 1 || second.Misses != 0 {
			t.Errorf("second interval %+v, want only its own 1 request and 1 hit", second)
		}
		if w := n.Status().Window; w.Hits != 2 || w.Misses != 1 {
			t.Errorf("60 s window %+v, want 2 hits and 1 miss", w)
		}
	})
}
