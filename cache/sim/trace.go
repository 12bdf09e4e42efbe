package sim

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Request is one request of a trace: a key and the size of its value in
// bytes.
type Request struct {
	Key  string
	Size int
}

// ReadTrace reads a trace of one request a line, "key size" separated by
// spaces or tabs (a key cannot hold either). Blank lines and lines starting
// with # are skipped. An error names the first bad line.
func ReadTrace(r io.Reader) ([]Request, error) {
	var trace []Request
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("cache: trace line %d: want \"key size\", got %d fields", n, len(fields))
		}
		size, err := strconv.Atoi(fields[1])
		if err != nil || size < 0 {
			return nil, fmt.Errorf("cache: trace line %d: size %q is not a whole number of bytes", n, fields[1])
		}
		trace = append(trace, Request{Key: fields[0], Size: size})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cache: reading trace: %w", err)
	}
	return trace, nil
}

// WriteTrace writes trace in the format ReadTrace reads.
func WriteTrace(w io.Writer, trace []Request) error {
	bw := bufio.NewWriter(w)
	for _, r := range trace {
		fmt.Fprintf(bw, "%s %d\n", r.Key, r.Size)
	}
	return bw.Flush()
}

// ZipfTrace describes a synthetic trace of images: popularity follows
// Zipf's law, unrelated to size; sizes are log-uniform between MinSize and
// MaxSize, so small and big images are equally common per decade of size.
type ZipfTrace struct {
	Objects, Requests int
	S                 float64 // Zipf exponent, > 1; 1.01 is a typical web workload
	MinSize, MaxSize  int64   // bytes
	Seed              uint64
}

// Generate returns the trace; the same fields give the same trace.
func (z ZipfTrace) Generate() ([]Request, error) {
	switch {
	case z.Objects < 1 || z.Requests < 0:
		return nil, fmt.Errorf("cache: zipf trace: want at least 1 object and 0 requests, got %d and %d", z.Objects, z.Requests)
	case !(z.S > 1):
		return nil, fmt.Errorf("cache: zipf trace: exponent %v must be above 1", z.S)
	case z.MinSize < 1 || z.MaxSize < z.MinSize:
		return nil, fmt.Errorf("cache: zipf trace: sizes %d to %d: want 1 <= min <= max", z.MinSize, z.MaxSize)
	}
	r := rand.New(rand.NewPCG(z.Seed, 99))
	sizes := make([]int, z.Objects)
	lo, hi := math.Log(float64(z.MinSize)), math.Log(float64(z.MaxSize))
	for i := range sizes {
		sizes[i] = int(math.Exp(lo + r.Float64()*(hi-lo)))
	}
	perm := r.Perm(z.Objects) // popularity rank -> object
	zipf := rand.NewZipf(r, z.S, 1, uint64(z.Objects-1))
	trace := make([]Request, z.Requests)
	for i := range trace {
		id := perm[zipf.Uint64()]
		trace[i] = Request{Key: fmt.Sprintf("img:%07d", id), Size: sizes[id]}
	}
	return trace, nil
}
