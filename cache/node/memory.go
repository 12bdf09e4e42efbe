package node

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// How much memory a node needs for a capacity, and so how much capacity
// its host holds: the capacity counts only cached bytes, and the process
// needs more than that. memoryLimit is the one rule; MemoryLimit sets the
// Go memory limit from it, and HostMaxCapacity inverts it.

const mib = 1 << 20

// memoryShare is the part of the host's memory a node's process may use;
// the rest is the kernel's, systemd's and the shell's.
const memoryShare = 0.9

// memoryLimit is the Go memory limit of a node of the given capacity: the
// capacity plus headroom for the runtime, the connections and the garbage
// between collections.
func memoryLimit(capacity int64) int64 {
	return capacity + max(capacity/4, 64*mib) + 64*mib
}

// MemoryLimit returns a hook for Options.OnConfig that caps the Go heap
// from the node's capacity. A node's live heap is its cached values; with
// GOGC alone a full node's heap may grow to twice its capacity before a
// collection. A memory limit of the capacity plus headroom makes the
// collector work harder instead as the heap nears it. (Turning GOGC off
// as well, to collect only at the limit, measured far slower: every new
// value then lands on fresh pages, and the page faults cost more than the
// collections saved.) When the operator set a limit (GOMEMLIMIT), it
// wins: the hook is nil.
func MemoryLimit(log *slog.Logger) func(Config) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 { // -1 reads the limit
		return nil
	}
	return func(cfg Config) {
		limit := memoryLimit(cfg.Capacity)
		debug.SetMemoryLimit(limit)
		log.Info("node memory limit set from its capacity", "capacity_mb", cfg.Capacity/mib, "limit_mb", limit/mib)
	}
}

// HostMaxCapacity returns the largest capacity this process's memory
// holds (see maxCapacityFor): the node command's default MaxCapacity, so
// that a node refuses a capacity the kernel's OOM killer would end.
func HostMaxCapacity() (int64, error) {
	mem, err := hostMemory()
	if err != nil {
		return 0, err
	}
	return maxCapacityFor(mem), nil
}

// maxCapacityFor returns the largest capacity, in whole MiB, whose memory
// limit fits in memoryShare of mem bytes; 0 when none does.
func maxCapacityFor(mem int64) int64 {
	room := int64(float64(mem) * memoryShare)
	c := (room - 64*mib) * 4 / 5 // where capacity/4 is the larger headroom
	if c < 256*mib {
		c = room - 128*mib // where the 64 MiB floor is
	}
	return max(c/mib*mib, 0)
}

// hostMemory returns the memory this process may use: its cgroup's limit
// when it has one (a container, a systemd unit with MemoryMax), else the
// machine's.
func hostMemory() (int64, error) {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			return n, nil
		} // "max": no limit, so the machine's
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
