package web

import "net/url"

// Input limits (design W2, spec S9): nothing a request sends is read past
// its limit, let alone stored. A token gets 4 KB, a locale list 256 B, a
// state 2 KB, a scope 2 KB and 64 values, any other value 512 B (URIs:
// client.MaxURILen). The query string and body caps are the server's.
const (
	MaxValueLen   = 512
	MaxTokenLen   = 4 << 10
	MaxStateLen   = 2 << 10
	MaxScopeLen   = 2 << 10
	MaxScopes     = 64
	MaxLocalesLen = 256
)

// Limit is the longest value one parameter may have.
type Limit struct {
	Name string
	Max  int
}

// Oversized returns the first parameter of v, in the order of limits,
// that has a value longer than its limit.
func Oversized(v url.Values, limits []Limit) (Limit, bool) {
	for _, l := range limits {
		for _, s := range v[l.Name] {
			if len(s) > l.Max {
				return l, true
			}
		}
	}
	return Limit{}, false
}
