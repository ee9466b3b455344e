package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The YAML library's own errors name Go types ("field sesion_ttl not found
// in type config.Config", "cannot unmarshal !!str into time.Duration").
// checkFile reads the file's syntax tree against the types it decodes into
// first, so that each mistake is reported as its reader would fix it: the
// file and line, the key, and what was expected, in words.

// checkFile returns one error per unknown or repeated key and per value of
// the wrong kind in the parsed document doc, each starting "file:line: ".
func checkFile(file string, doc *yaml.Node) []error {
	c := &checker{file: file}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	switch {
	case doc.Kind == 0 || isNull(doc):
		return nil // an empty file: the defaults
	case doc.Kind != yaml.MappingNode:
		c.at(doc, "the file must hold keys, one `key: value` a line, not %s", describe(doc))
		return c.errs
	}
	c.mapping(doc, reflect.TypeFor[Config](), "")
	return c.errs
}

// checker collects the problems of one file.
type checker struct {
	file string
	errs []error
}

func (c *checker) at(n *yaml.Node, format string, a ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s:%d: %s", c.file, n.Line, fmt.Sprintf(format, a...)))
}

// value checks node n, found at path, against type t.
func (c *checker) value(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		return // null leaves the default's zero; Validate says if that is wrong
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.at(n, "`%s` must hold keys (`key: value` lines, indented under it), not %s", path, describe(n))
			return
		}
		c.mapping(n, t, path)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.at(n, "`%s` must hold `key: value` lines, indented under it, not %s", path, describe(n))
			return
		}
		c.entries(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.at(n, "`%s` must be a list (`- item` lines, or [a, b]), not %s", path, describe(n))
			return
		}
		for i, item := range n.Content {
			c.value(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		// Decoding the one value as Load will tells exactly what Load
		// accepts (yes and on are true, say), without restating it.
		if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil {
			c.at(n, "`%s` must be %s, not %s", path, expected(t), describe(n))
		}
	}
}

// mapping checks the keys of n against the yaml tags of struct t.
func (c *checker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields, names := yamlFields(t)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge") {
			// A merge (<<: *defaults, or a list of them) brings in
			// another mapping's keys.
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					c.value(m, t, path)
				}
			} else {
				c.value(v, t, path)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.at(k, "a key must be a plain name, not %s", describe(k))
			continue
		}
		full := k.Value
		if path != "" {
			full = path + "." + k.Value
		}
		if line, ok := seen[k.Value]; ok {
			c.at(k, "`%s` is set twice (first on line %d); keep one", full, line)
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			c.at(k, "unknown key `%s`%s", full, hint(k.Value, names, t, path))
			continue
		}
		c.value(v, ft, full)
	}
}

// entries checks the keys and values of n against map type t, whose keys
// are the operator's own (a role's permissions, by resource indicator).
func (c *checker) entries(n *yaml.Node, t reflect.Type, path string) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Decode(reflect.New(t.Key()).Interface()) != nil {
			c.at(k, "a key of `%s` must be %s, not %s", path, expected(t.Key()), describe(k))
			continue
		}
		full := path + "." + k.Value
		if line, ok := seen[k.Value]; ok {
			c.at(k, "`%s` is set twice (first on line %d); keep one", full, line)
			continue
		}
		seen[k.Value] = k.Line
		c.value(v, t.Elem(), full)
	}
}

// yamlFields are the keys of struct t, by yaml tag, and their names in
// order.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case name == "":
			name = strings.ToLower(f.Name) // the YAML library's default
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	return fields, names
}

// hint says what an unknown key was probably meant to be: the nearest key
// of its mapping, or, at the top level, the list whose entries have it.
func hint(key string, names []string, t reflect.Type, path string) string {
	if near := nearest(key, names); near != "" {
		return fmt.Sprintf(" (did you mean `%s`?)", near)
	}
	if path == "" {
		var lists []string
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Struct {
				continue
			}
			if entry, _ := yamlFields(f.Type.Elem()); entry[key] != nil {
				name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				lists = append(lists, "`"+name+"`")
			}
		}
		if len(lists) > 0 {
			return fmt.Sprintf(" (it is a key of each entry of %s: indent it under one)", strings.Join(lists, " and "))
		}
	}
	return "; docs/configuration.md lists the keys"
}

// nearest is the name closest to key in spelling, if one is close enough
// to be what was meant: a letter or two off, another case, a dash for an
// underscore, or an environment variable's name.
func nearest(key string, names []string) string {
	k := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	k = strings.TrimPrefix(k, "sesame_")
	best, bestD := "", -1
	for _, name := range names {
		d := distance(k, name)
		// Two edits for most names, three for long ones: past that the
		// guess is more often wrong than right.
		limit := 2
		if utf8.RuneCountInString(name) >= 12 {
			limit = 3
		}
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = name, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent letters.
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// expected says in words what a value of type t looks like.
func expected(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration with its unit, such as 336h, 30m or 90s"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.String:
		return "a single value"
	}
	return "a single value"
}

// describe names what a node holds, quoting a short value: never a whole
// list or mapping, which may hold a secret typed one level off.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a set of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:40]) + "..."
		}
		return "`" + v + "`"
	}
	return "this"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// yamlLine matches the YAML library's syntax errors ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError words a YAML syntax error with the file and line, as the
// other errors of the file are.
func syntaxError(file string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: not valid YAML: %s", file, m[1], m[2])
	}
	return fmt.Errorf("%s: not valid YAML: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
}
