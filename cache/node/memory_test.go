package node

import (
	"bufio"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

// TestMaxCapacityFor checks the capacity a host holds against the memory
// limit rule: the largest that fits, and not one MiB more.
func TestMaxCapacityFor(t *testing.T) {
	tests := []struct{ memMB, wantMB int64 }{
		{2048, 1423},      // t3.small: (1843 - 64) × 4/5
		{8192, 5847},      // m5.large
		{384, 217},        // below 256 MB of capacity the 64 MB floor of headroom counts
		{128, 0},          // nothing fits
		{512, 317},        // (460 - 64) × 4/5
		{1 << 20, 754923}, // 1 TB
	}
	for _, tt := range tests {
		got := maxCapacityFor(tt.memMB*mib) / mib
		if got != tt.wantMB {
			t.Errorf("maxCapacityFor(%d MB) = %d MB, want %d MB", tt.memMB, got, tt.wantMB)
		}
		room := int64(float64(tt.memMB*mib) * memoryShare)
		if got > 0 && memoryLimit(got*mib) > room {
			t.Errorf("%d MB: a capacity of %d MB needs %d MB, more than the %d MB there is", tt.memMB, got, memoryLimit(got*mib)/mib, room/mib)
		}
		if memoryLimit((got+1)*mib) <= room {
			t.Errorf("%d MB: %d MB more would still fit", tt.memMB, got+1)
		}
	}
}

// TestMemTotal reads the machine's memory from /proc/meminfo's lines.
func TestMemTotal(t *testing.T) {
	got, err := memTotal(bufio.NewScanner(strings.NewReader("MemTotal:        2013236 kB\nMemFree:          120872 kB\n")))
	if err != nil || got != 2013236<<10 {
		t.Errorf("memTotal = %d, %v; want %d", got, err, 2013236<<10)
	}
	if _, err := memTotal(bufio.NewScanner(strings.NewReader("MemFree: 1 kB\n"))); err == nil {
		t.Error("memTotal without MemTotal: no error")
	}
}

// TestMemoryLimitLeavesTheOperatorsLimit checks that a memory limit the
// operator set (GOMEMLIMIT, or any set before) is kept: MemoryLimit gives
// no hook; without one it gives a hook that sets the limit by the rule.
func TestMemoryLimitLeavesTheOperatorsLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)
	hook := MemoryLimit(log)
	if hook == nil {
		t.Fatal("no limit set, and MemoryLimit gives no hook")
	}
	hook(Config{Capacity: 1 << 30})
	if got, want := debug.SetMemoryLimit(-1), memoryLimit(1<<30); got != want {
		t.Errorf("limit after a 1 GiB configuration = %d, want %d", got, want)
	}
	debug.SetMemoryLimit(512 << 20) // as GOMEMLIMIT=512MiB does at start
	if MemoryLimit(log) != nil {
		t.Error("the operator's limit is set, and MemoryLimit gives a hook that would replace it")
	}
}
