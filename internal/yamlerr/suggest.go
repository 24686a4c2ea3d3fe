package yamlerr

import (
	"fmt"
	"math"
	"strings"
)

// Suggest returns `; did you mean "x"?` for the entry of known closest to
// got by edit distance (ignoring case, and _ against -), when it is a likely
// typo: at most 2 edits, and fewer edits than x has characters. Otherwise "".
func Suggest(got string, known []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	g := norm(got)
	best, bestD := "", 3
	for _, k := range known {
		n := norm(k)
		if d := editDistance(g, n); d < bestD && d < len(n) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// OneOf lists values for a message: "table, text or json".
func OneOf(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt32
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
