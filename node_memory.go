package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// How much a node may cache on its host: the node's capacity counts only
// cached bytes, and the process needs more than that (gcForCapacity sets
// the Go memory limit to what nodeMemoryLimit gives), so the largest
// capacity is the one whose limit fits in most of the host's memory.

// memoryShare is the part of the host's memory a node's process may use;
// the rest is the kernel's, systemd's and the shell's.
const memoryShare = 0.9

// nodeMemoryLimit is the Go memory limit of a node of the given capacity:
// the capacity plus headroom for the runtime, the connections and the
// garbage between collections.
func nodeMemoryLimit(capacity int64) int64 {
	return capacity + max(capacity/4, 64*mebibyte) + 64*mebibyte
}

// maxCapacityFor returns the largest capacity, in whole MB, whose memory
// limit fits in memoryShare of mem bytes; 0 when none does.
func maxCapacityFor(mem int64) int64 {
	room := int64(float64(mem) * memoryShare)
	c := (room - 64*mebibyte) * 4 / 5 // where capacity/4 is the larger headroom
	if c < 256*mebibyte {
		c = room - 128*mebibyte // where the 64 MB floor is
	}
	return max(c/mebibyte*mebibyte, 0)
}

// hostMemory returns the memory this process may use: its cgroup's limit
// when it has one (a container, a systemd unit with MemoryMax), else the
// machine's.
func hostMemory() (int64, error) {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			return n, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read the cgroup's memory limit: %w", err)
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read the machine's memory: %w", err)
	}
	defer f.Close()
	return memTotal(bufio.NewScanner(f))
}

// memTotal reads MemTotal from /proc/meminfo's lines.
func memTotal(sc *bufio.Scanner) (int64, error) {
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("MemTotal %q: %w", rest, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no MemTotal in /proc/meminfo")
}
