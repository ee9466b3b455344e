package config

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/resource"
)

// docPath is the configuration reference users read.
const docPath = "../../docs/configuration.md"

// docTables reads the tables of docs/configuration.md: for each "## "
// section, its rows by their first cell's key, each row its cells.
func docTables(t *testing.T) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			section = strings.TrimSpace(h)
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue // not a row, or a header or separator row
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		key := strings.Trim(cells[0], "`")
		if sections[section] == nil {
			sections[section] = map[string][]string{}
		}
		if _, dup := sections[section][key]; dup {
			t.Errorf("%s, section %q: key %s is listed twice", docPath, section, key)
		}
		sections[section][key] = cells
	}
	return sections
}

// docKeys are the yaml keys of struct t and their fields.
func docKeys(t reflect.Type) map[string]reflect.StructField {
	keys := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys[name] = f
		}
	}
	return keys
}

// firstCode is a cell's first `code span`.
var firstCode = regexp.MustCompile("`([^`]*)`")

// Every key of Config is in the reference with its type, default and
// environment variable, and the default it states is Default()'s; every
// field of a client, user, API resource and role entry is there too; and
// nothing is listed that Sesame does not read.
func TestConfigurationDocListsEveryKey(t *testing.T) {
	tables := docTables(t)
	keys := tables["Keys"]
	if len(keys) == 0 {
		t.Fatalf("%s: no table in a section \"## Keys\"", docPath)
	}
	def := reflect.ValueOf(Default())
	for key, f := range docKeys(reflect.TypeFor[Config]()) {
		row, ok := keys[key]
		if !ok {
			t.Errorf("%s does not list the key %s: add a row | `%s` | type | default | environment | meaning |", docPath, key, key)
			continue
		}
		if len(row) != 5 {
			t.Errorf("%s: the row of %s has %d cells, want 5 (key, type, default, environment, meaning)", docPath, key, len(row))
			continue
		}
		typ, dflt, env := row[1], row[2], row[3]
		entries := f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct
		wantEnv := "`SESAME_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")) + "`"
		switch {
		case entries && strings.Contains(env, "SESAME_"):
			t.Errorf("%s: %s is set in the file only, but its row names a variable: %s", docPath, key, env)
		case !entries && !strings.Contains(env, wantEnv):
			t.Errorf("%s: the row of %s does not name its variable %s: %s", docPath, key, wantEnv, env)
		}
		checkDocDefault(t, key, f.Type, def.FieldByIndex(f.Index), typ, dflt)
	}
	for key := range keys {
		if _, ok := docKeys(reflect.TypeFor[Config]())[key]; !ok {
			t.Errorf("%s lists %s, which is not a key of the configuration", docPath, key)
		}
	}

	for _, entry := range []struct {
		section string
		typ     reflect.Type
	}{
		{"Client entries", reflect.TypeFor[client.Spec]()},
		{"User entries", reflect.TypeFor[account.Spec]()},
		{"API resource entries", reflect.TypeFor[resource.APISpec]()},
		{"Role entries", reflect.TypeFor[resource.RoleSpec]()},
	} {
		rows := tables[entry.section]
		if len(rows) == 0 {
			t.Errorf("%s: no table in a section \"## %s\"", docPath, entry.section)
			continue
		}
		fields := docKeys(entry.typ)
		for key := range fields {
			if row, ok := rows[key]; !ok {
				t.Errorf("%s, %s: the field %s is missing", docPath, entry.section, key)
			} else if len(row) != 4 {
				t.Errorf("%s, %s: the row of %s has %d cells, want 4 (field, type, default, meaning)", docPath, entry.section, key, len(row))
			}
		}
		for key := range rows {
			if _, ok := fields[key]; !ok {
				t.Errorf("%s, %s: %s is not a field of an entry", docPath, entry.section, key)
			}
		}
	}
}

// checkDocDefault compares the default a row states with Default()'s: an
// empty value is written "empty...", any other as the cell's first code
// span (durations compared as durations, so `60s` is `1m`).
func checkDocDefault(t *testing.T, key string, typ reflect.Type, v reflect.Value, typeCell, cell string) {
	t.Helper()
	code := ""
	if m := firstCode.FindStringSubmatch(cell); m != nil {
		code = m[1]
	}
	wrong := func(want string) {
		t.Errorf("%s: the default of %s is %s, but the row says %q", docPath, key, want, cell)
	}
	switch {
	case typ == reflect.TypeFor[time.Duration]():
		if !strings.Contains(typeCell, "duration") {
			t.Errorf("%s: the type of %s is a duration, but the row says %q", docPath, key, typeCell)
		}
		d, err := time.ParseDuration(code)
		if want := time.Duration(v.Int()); err != nil || d != want {
			wrong("`" + want.String() + "`")
		}
	case typ.Kind() == reflect.Bool:
		if !strings.Contains(typeCell, "boolean") {
			t.Errorf("%s: the type of %s is a boolean, but the row says %q", docPath, key, typeCell)
		}
		if b, err := strconv.ParseBool(code); err != nil || b != v.Bool() {
			wrong("`" + strconv.FormatBool(v.Bool()) + "`")
		}
	case v.IsZero():
		if !strings.HasPrefix(cell, "empty") {
			wrong("empty")
		}
	case typ.Kind() == reflect.String:
		if code != v.String() {
			wrong("`" + v.String() + "`")
		}
	default:
		t.Errorf("%s: the default of %s (%v) is not checked: teach checkDocDefault its type", docPath, key, v)
	}
}
