package admin_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// The OpenAPI document describes a receipt's outcomes with exactly the
// fields the API answers (store.ReceiptOutcome's JSON names), so a client
// generated from it reads every one, frontchannel_uri included.
func TestOpenAPIDocumentNamesEveryOutcomeField(t *testing.T) {
	s := sesametest.New(t, sesametest.Options{})
	_, doc := apiClient{t, s, ""}.do("GET", "/api/openapi.json", nil)
	var v any = doc
	for _, p := range []string{"components", "schemas", "Receipt", "properties", "outcomes", "items", "properties"} {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("the document has no %s where a receipt's outcomes are described", p)
		}
		v = m[p]
	}
	props, _ := v.(map[string]any)
	var documented, answered []string
	for name := range props {
		documented = append(documented, name)
	}
	ty := reflect.TypeFor[store.ReceiptOutcome]()
	for i := range ty.NumField() {
		if name, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			answered = append(answered, name)
		}
	}
	slices.Sort(documented)
	slices.Sort(answered)
	if !slices.Equal(documented, answered) {
		t.Errorf("a receipt's outcome: the document names %v, the API answers %v", documented, answered)
	}
}
