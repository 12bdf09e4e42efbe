module github.com/picpool/picpool/bench

go 1.26.0

require (
	github.com/dgraph-io/ristretto/v2 v2.4.2
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/maypok86/otter/v2 v2.4.0
	github.com/picpool/picpool v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The engines under test are the ones in this checkout, not a published
// version: bench/ lives inside the repository it measures.
replace github.com/picpool/picpool => ../
