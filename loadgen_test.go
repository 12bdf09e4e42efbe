package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/picpool/picpool/assets"
)

// loadgenTable is one phase's table as loadgen printed it: requests and
// failures per type.
type loadgenTable map[string][2]int

// parseLoadgenTables reads the "== phase (…)" tables of loadgen's output.
func parseLoadgenTables(t *testing.T, out string) map[string]loadgenTable {
	t.Helper()
	tables := map[string]loadgenTable{}
	var cur loadgenTable
	head := regexp.MustCompile(`^== (.+) \(\d+\.\ds\)`)
	row := regexp.MustCompile(`^\s*(\S+)\s+(\d+)\s+(\d+)\s+[\d.]+\s`)
	for _, l := range strings.Split(out, "\n") {
		if m := head.FindStringSubmatch(l); m != nil {
			cur = loadgenTable{}
			tables[m[1]] = cur
			continue
		}
		if m := row.FindStringSubmatch(l); m != nil && cur != nil {
			n, _ := strconv.Atoi(m[2])
			f, _ := strconv.Atoi(m[3])
			cur[m[1]] = [2]int{n, f}
		}
	}
	return tables
}

// readCSV returns the rows of the report's CSV as maps by column.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the CSV beside the report: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("CSV %s: %v (%d records)", path, err, len(recs))
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, col := range recs[0] {
			m[col] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// checkReport checks what every report must be: the charts named, the
// ECharts script inlined and nothing loaded from elsewhere.
func checkReport(t *testing.T, path string, chartIDs []string) {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range chartIDs {
		if !bytes.Contains(page, []byte(`id="`+id+`"`)) || !bytes.Contains(page, []byte(`echarts.init(document.getElementById('`+id+`')`)) {
			t.Errorf("the report lacks chart %q", id)
		}
	}
	if n := bytes.Count(page, []byte("echarts.init(")); n != len(chartIDs) {
		t.Errorf("the report draws %d charts, want %d", n, len(chartIDs))
	}
	if m := regexp.MustCompile(`(?i)<script[^>]*\ssrc=|<link[^>]*href="https?:`).Find(page); m != nil {
		t.Errorf("the report loads from elsewhere: %s", m)
	}
	js, _ := assets.Content(assets.ECharts)
	if !bytes.Contains(page, js[:2000]) || !bytes.Contains(page, js[len(js)-2000:]) {
		t.Error("the report does not inline the vendored ECharts script")
	}
}

// checkCounts checks that every table adds up against the CSV: for each
// phase and type, the table's requests are the CSV's successes plus the
// table's failures, and its failures are the CSV's failures.
func checkCounts(t *testing.T, tables map[string]loadgenTable, rows []map[string]string, phases []string) {
	t.Helper()
	type key struct{ phase, typ string }
	ok, failed := map[key]int{}, map[key]int{}
	for _, r := range rows {
		k := key{r["phase"], r["type"]}
		if r["ok"] == "true" {
			ok[k]++
		} else {
			failed[k]++
			if r["error"] == "" {
				t.Errorf("a failed %s in %s has no message", k.typ, k.phase)
			}
		}
	}
	for _, ph := range phases {
		table, found := tables[ph]
		if !found {
			t.Errorf("no table for phase %q", ph)
			continue
		}
		total := [2]int{}
		for typ, nf := range table {
			if typ == "Total" {
				continue
			}
			k := key{ph, typ}
			if nf[0] != ok[k]+nf[1] || nf[1] != failed[k] {
				t.Errorf("%s %s: table %d requests, %d failures; CSV %d successes, %d failures", ph, typ, nf[0], nf[1], ok[k], failed[k])
			}
			total[0] += nf[0]
			total[1] += nf[1]
		}
		if table["Total"] != total {
			t.Errorf("%s: Total row %v, the types add up to %v", ph, table["Total"], total)
		}
	}
}

// loadgenAgainstDev runs loadgen with args (small images, 4 workers, a
// report in a temporary folder) against a `picpool dev` of its own and
// returns what it printed and the report's path.
func loadgenAgainstDev(t *testing.T, args ...string) (out *bytes.Buffer, report string) {
	t.Helper()
	s := startDevServers(t)
	report = filepath.Join(t.TempDir(), "out.html")
	out = &bytes.Buffer{}
	args = append([]string{"loadgen", "--target", s.gallery, "--sizes", "2KB-40KB", "--concurrency", "4", "--report", report}, args...)
	if err := run(t.Context(), args, env(), out); err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out.String())
	}
	return out, report
}

func TestLoadgenRWRatios(t *testing.T) {
	out, report := loadgenAgainstDev(t, "--scenario", "rw-ratios", "--duration", "9s", "--keys", "20")
	phases := []string{"seed"}
	for _, r := range []string{"20:80", "50:50", "80:20"} {
		for _, p := range []string{"none", "RR", "LRU"} {
			phases = append(phases, r+" "+p)
		}
	}
	tables := parseLoadgenTables(t, out.String())
	rows := readCSV(t, strings.TrimSuffix(report, ".html")+".csv")
	checkCounts(t, tables, rows, phases)
	if got := tables["seed"]["seed"]; got != [2]int{20, 0} {
		t.Errorf("seed: %v requests and failures, want 20 and 0", got)
	}
	// Each phase ran both kinds of request; the cache was off where it
	// should be, and on (cold, so missing first) where it should be.
	caches := map[string]map[string]int{}
	for _, r := range rows {
		if r["type"] == "read" {
			if caches[r["phase"]] == nil {
				caches[r["phase"]] = map[string]int{}
			}
			caches[r["phase"]][r["cache"]]++
		}
	}
	for _, ph := range phases[1:] {
		if tables[ph]["read"][0] == 0 || tables[ph]["write"][0] == 0 {
			t.Errorf("%s: %v: want reads and writes", ph, tables[ph])
		}
		c := caches[ph]
		if strings.HasSuffix(ph, "none") && (c["OFF"] == 0 || c["HIT"]+c["MISS"] > 0) {
			t.Errorf("%s: reads by X-Cache %v, want every one OFF", ph, c)
		}
		if !strings.HasSuffix(ph, "none") && (c["MISS"] == 0 || c["OFF"] > 0) {
			t.Errorf("%s: reads by X-Cache %v, want HIT and MISS only, with misses", ph, c)
		}
	}
	checkReport(t, report, []string{"latency_20_80", "latency_50_50", "latency_80_20", "throughput", "hit_rate"})
	if !strings.Contains(out.String(), "the pool's configuration was restored") {
		t.Errorf("loadgen did not restore the pool:\n%s", out.String())
	}
	if t.Failed() {
		t.Log(out.String())
	}
}

func TestLoadgenPoolGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a 6 s load with a resize")
	}
	out, report := loadgenAgainstDev(t, "--scenario", "pool-grow", "--duration", "6s", "--keys", "30")
	rows := readCSV(t, strings.TrimSuffix(report, ".html")+".csv")
	checkCounts(t, parseLoadgenTables(t, out.String()), rows, []string{"seed", "pool 2→4"})
	// The polls saw the pool at 2 nodes, then at 4, never anything else.
	var nodes []string
	for _, r := range rows {
		if r["type"] == "getNumNodes" && r["ok"] == "true" && (len(nodes) == 0 || nodes[len(nodes)-1] != r["value"]) {
			nodes = append(nodes, r["value"])
		}
	}
	if strings.Join(nodes, "→") != "2→4" {
		t.Errorf("polled pool sizes %v, want 2 then 4", nodes)
	}
	checkReport(t, report, []string{"latency_time", "throughput_time", "hit_rate_time", "nodes"})
	if t.Failed() {
		t.Log(out.String())
	}
}

func TestLoadgenRefusesRemoteAndBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://192.0.2.1:5000"}, "not on loopback (127.0.0.0/8, ::1, localhost): loadgen sends heavy traffic"},
		{[]string{"--rw", "80-20"}, `--rw "80-20": want READ:WRITE`},
		{[]string{"--sizes", "1MB-1KB"}, "MIN is larger than MAX"},
		{[]string{"--scenario", "soak"}, `--scenario "soak": want one of`},
		{[]string{"--concurrency", "0", "--keys", "0"}, "--concurrency 0: want 1 to 1024\n--keys 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(t.Context(), append([]string{"loadgen"}, tt.args...), env(), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
