package console

import (
	"testing"

	"github.com/sesame-id/sesame/internal/backchannel"
)

// Every cause of a failed delivery has a title and a sentence of advice
// in words: none falls back to the catch-all.
func TestEveryCauseHasWords(t *testing.T) {
	for _, c := range backchannel.Causes {
		if causeTitles[c] == "" || causeAdvice[c] == "" {
			t.Errorf("cause %s: title %q, advice %q", c, causeTitles[c], causeAdvice[c])
		}
	}
	if len(causeTitles) != len(backchannel.Causes) || len(causeAdvice) != len(backchannel.Causes) {
		t.Errorf("%d titles and %d sentences for %d causes", len(causeTitles), len(causeAdvice), len(backchannel.Causes))
	}
}
