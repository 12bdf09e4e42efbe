package memproto

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func plainAlloc(n int) (Value, error) { return Value{B: make([]byte, n)}, nil }

func TestDecideStore(t *testing.T) {
	const now = 1000
	held := func(cas uint64, versioned bool) State {
		return State{Found: true, Item: Item{Value: Value{B: []byte("old")}, Flags: 3, Exptime: 2000, CAS: cas, Versioned: versioned}}
	}
	expiredState := State{Found: true, Item: Item{Value: Value{B: []byte("old")}, Exptime: now, CAS: 9}}
	newValue := Value{B: []byte("new")}
	tests := []struct {
		name       string
		st         State
		req        storeReq
		wantOp     Op
		wantResult storeResult
		wantItem   Item // when wantOp is Store
	}{
		{"set on nothing", State{}, storeReq{mode: modeSet, cas: 5}, Store, resStored, Item{Value: newValue, CAS: 5}},
		{"set replaces", held(9, false), storeReq{mode: modeSet, flags: 1, exptime: 3000, cas: 10}, Store, resStored, Item{Value: newValue, Flags: 1, Exptime: 3000, CAS: 10}},
		{"set already expired deletes", held(9, false), storeReq{mode: modeSet, dead: true, cas: 10}, Delete, resStored, Item{}},
		{"add on held", held(9, false), storeReq{mode: modeAdd, cas: 10}, Keep, resNotStored, Item{}},
		{"add on expired", expiredState, storeReq{mode: modeAdd, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 10}},
		{"replace on nothing", State{}, storeReq{mode: modeReplace}, Keep, resNotStored, Item{}},
		{"replace on expired", expiredState, storeReq{mode: modeReplace}, Keep, resNotStored, Item{}},
		{"append keeps flags and expiry", held(9, false), storeReq{mode: modeAppend, flags: 7, exptime: 5, cas: 10}, Store, resStored,
			Item{Value: Value{B: []byte("oldnew")}, Flags: 3, Exptime: 2000, CAS: 10}},
		{"prepend", held(9, false), storeReq{mode: modePrepend, cas: 10}, Store, resStored, Item{Value: Value{B: []byte("newold")}, Flags: 3, Exptime: 2000, CAS: 10}},
		{"cas matches", held(9, false), storeReq{mode: modeSet, hasCompare: true, compare: 9, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 10}},
		{"cas differs", held(9, false), storeReq{mode: modeSet, hasCompare: true, compare: 8, cas: 10}, Keep, resExists, Item{}},
		{"cas on nothing", State{}, storeReq{mode: modeSet, hasCompare: true, compare: 9}, Keep, resNotFound, Item{}},
		{"cas lower with I stores stale", held(9, false), storeReq{mode: modeSet, hasCompare: true, compare: 8, invalid: true, exptime: 5, cas: 10}, Store, resStored,
			Item{Value: newValue, Exptime: 2000, CAS: 10, Stale: true}},
		{"cas higher with I", held(9, false), storeReq{mode: modeSet, hasCompare: true, compare: 10, invalid: true}, Keep, resExists, Item{}},
		{"version on nothing", State{}, storeReq{mode: modeSet, version: 4, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 4, Versioned: true}},
		{"older version", held(9, true), storeReq{mode: modeSet, version: 8, cas: 10}, Keep, resNotStored, Item{}},
		{"same version", held(9, true), storeReq{mode: modeSet, version: 9, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 9, Versioned: true}},
		{"newer version", held(9, true), storeReq{mode: modeSet, version: 12, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 12, Versioned: true}},
		{"version over an unversioned item", held(900, false), storeReq{mode: modeSet, version: 2, cas: 10}, Store, resStored, Item{Value: newValue, CAS: 2, Versioned: true}},
		{"version over an expired newer one", State{Found: true, Item: Item{Exptime: now, CAS: 9, Versioned: true}}, storeReq{mode: modeSet, version: 2}, Store, resStored,
			Item{Value: newValue, CAS: 2, Versioned: true}},
		{"version below a tombstone", State{Tombstone: 6}, storeReq{mode: modeSet, version: 5}, Keep, resNotStored, Item{}},
		{"version at a tombstone", State{Tombstone: 6}, storeReq{mode: modeSet, version: 6}, Store, resStored, Item{Value: newValue, CAS: 6, Versioned: true}},
		{"unversioned ignores a tombstone", State{Tombstone: 6}, storeReq{mode: modeSet, cas: 3}, Store, resStored, Item{Value: newValue, CAS: 3}},
		{"unversioned over a versioned item", held(9, true), storeReq{mode: modeSet, cas: 3}, Store, resStored, Item{Value: newValue, CAS: 3}},
		{"versioned add on held", held(1, true), storeReq{mode: modeAdd, version: 5}, Keep, resNotStored, Item{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.value = newValue
			out := decideStore(tt.st, tt.req, now, plainAlloc)
			if out.change.Op != tt.wantOp || out.result != tt.wantResult {
				t.Fatalf("op %d, result %d; want %d, %d", out.change.Op, out.result, tt.wantOp, tt.wantResult)
			}
			if tt.wantOp != Store {
				return
			}
			if diff := cmp.Diff(tt.wantItem, out.change.Item); diff != "" {
				t.Errorf("item (-want +got):\n%s", diff)
			}
			if out.cas != tt.wantItem.CAS {
				t.Errorf("outcome cas %d, want %d", out.cas, tt.wantItem.CAS)
			}
			appends := tt.req.mode == modeAppend || tt.req.mode == modePrepend
			if out.consumed == appends {
				t.Errorf("consumed %v: the request's value goes into the change unless appended", out.consumed)
			}
		})
	}
}

func TestDecideArith(t *testing.T) {
	const now = 1000
	number := func(s string) State {
		return State{Found: true, Item: Item{Value: Value{B: []byte(s)}, Flags: 4, Exptime: 2000, CAS: 9, Versioned: true}}
	}
	tests := []struct {
		name       string
		st         State
		req        arithReq
		wantResult storeResult
		wantNumber uint64
		wantItem   Item
	}{
		{"incr", number("10"), arithReq{delta: 5, cas: 11}, resStored, 15, Item{Value: Value{B: []byte("15")}, Flags: 4, Exptime: 2000, CAS: 11}},
		{"incr wraps", number("18446744073709551615"), arithReq{delta: 2, cas: 11}, resStored, 1, Item{Value: Value{B: []byte("1")}, Flags: 4, Exptime: 2000, CAS: 11}},
		{"decr stops at zero", number("3"), arithReq{decr: true, delta: 5, cas: 11}, resStored, 0, Item{Value: Value{B: []byte("0")}, Flags: 4, Exptime: 2000, CAS: 11}},
		{"padded number", number("7   "), arithReq{delta: 1, cas: 11}, resStored, 8, Item{Value: Value{B: []byte("8")}, Flags: 4, Exptime: 2000, CAS: 11}},
		{"not a number", number("7x"), arithReq{delta: 1}, resNonNumeric, 0, Item{}},
		{"missing", State{}, arithReq{delta: 1}, resNotFound, 0, Item{}},
		{"created", State{}, arithReq{delta: 1, create: true, initial: 42, createExptime: 1500, cas: 11}, resStored, 42, Item{Value: Value{B: []byte("42")}, Exptime: 1500, CAS: 11}},
		{"compare differs", number("1"), arithReq{delta: 1, hasCompare: true, compare: 8}, resExists, 0, Item{}},
		{"touch", number("1"), arithReq{delta: 1, touch: true, exptime: 1200, cas: 11}, resStored, 2, Item{Value: Value{B: []byte("2")}, Flags: 4, Exptime: 1200, CAS: 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := decideArith(tt.st, tt.req, now, plainAlloc)
			if out.result != tt.wantResult || out.number != tt.wantNumber {
				t.Fatalf("result %d, number %d; want %d, %d", out.result, out.number, tt.wantResult, tt.wantNumber)
			}
			if tt.wantResult != resStored {
				if out.change.Op != Keep {
					t.Errorf("op %d for a failed request", out.change.Op)
				}
				return
			}
			if out.change.Op != Store {
				t.Errorf("op %d, want Store", out.change.Op)
			}
			if diff := cmp.Diff(tt.wantItem, out.change.Item); diff != "" {
				t.Errorf("item (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideDelete(t *testing.T) {
	const now = 1000
	held := State{Found: true, Item: Item{Value: Value{B: []byte("v")}, Exptime: 2000, CAS: 9}}
	tests := []struct {
		name       string
		st         State
		req        deleteReq
		wantResult storeResult
		want       Change
	}{
		{"delete", held, deleteReq{}, resStored, Change{Op: Delete}},
		{"missing", State{}, deleteReq{}, resNotFound, Change{Op: Keep}},
		{"expired is cleaned up", State{Found: true, Item: Item{Exptime: now}}, deleteReq{}, resNotFound, Change{Op: Delete}},
		{"compare differs", held, deleteReq{hasCompare: true, compare: 8, version: 4}, resExists, Change{Op: Keep}},
		{"compare matches", held, deleteReq{hasCompare: true, compare: 9}, resStored, Change{Op: Delete}},
		{"versioned", held, deleteReq{version: 12}, resStored, Change{Op: Delete, Tombstone: 12}},
		{"versioned missing leaves a tombstone", State{}, deleteReq{version: 12, ttl: 5}, resNotFound, Change{Op: Keep, Tombstone: 12, TombstoneTTL: 5}},
		{"invalidate", held, deleteReq{invalidate: true, cas: 11}, resStored,
			Change{Op: Modify, Item: Item{Value: Value{B: []byte("v")}, Exptime: 2000, CAS: 11, Stale: true}}},
		{"invalidate with version and touch", held, deleteReq{invalidate: true, version: 12, touch: true, exptime: 1100, cas: 11}, resStored,
			Change{Op: Modify, Item: Item{Value: Value{B: []byte("v")}, Exptime: 1100, CAS: 12, Versioned: true, Stale: true}, Tombstone: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := decideDelete(tt.st, tt.req, now)
			if res != tt.wantResult {
				t.Errorf("result %d, want %d", res, tt.wantResult)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}
