package main

import (
	"bufio"
	"strings"
	"testing"
)

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
		got := maxCapacityFor(tt.memMB*mebibyte) / mebibyte
		if got != tt.wantMB {
			t.Errorf("maxCapacityFor(%d MB) = %d MB, want %d MB", tt.memMB, got, tt.wantMB)
		}
		room := int64(float64(tt.memMB*mebibyte) * memoryShare)
		if got > 0 && nodeMemoryLimit(got*mebibyte) > room {
			t.Errorf("%d MB: a capacity of %d MB needs %d MB, more than the %d MB there is", tt.memMB, got, nodeMemoryLimit(got*mebibyte)/mebibyte, room/mebibyte)
		}
		if nodeMemoryLimit((got+1)*mebibyte) <= room {
			t.Errorf("%d MB: %d MB more would still fit", tt.memMB, got+1)
		}
	}
}

func TestMemTotal(t *testing.T) {
	got, err := memTotal(bufio.NewScanner(strings.NewReader("MemTotal:        2013236 kB\nMemFree:          120872 kB\n")))
	if err != nil || got != 2013236<<10 {
		t.Errorf("memTotal = %d, %v; want %d", got, err, 2013236<<10)
	}
	if _, err := memTotal(bufio.NewScanner(strings.NewReader("MemFree: 1 kB\n"))); err == nil {
		t.Error("memTotal without MemTotal: no error")
	}
}
