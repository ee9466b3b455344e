package grant

import "maps"

// CoversResources reports whether the grant already holds every API
// resource of res with every scope res lists for it (G1, R2), so that
// neither consent (C1a) nor a write is needed for them. A resource res
// lists with no scope is covered by the grant holding it at all.
func CoversResources(held, res map[string][]string) bool {
	for ind, scopes := range res {
		have, ok := held[ind]
		if !ok || !holdsAll(have, scopes) {
			return false
		}
	}
	return true
}

// UnionResources returns held with res added: newly consented API
// resources and scopes widen a grant, and nothing it held is lost.
// Neither argument is changed.
func UnionResources(held, res map[string][]string) map[string][]string {
	out := maps.Clone(held)
	if out == nil {
		out = make(map[string][]string, len(res))
	}
	for ind, scopes := range res {
		out[ind] = Union(out[ind], scopes)
	}
	return out
}
