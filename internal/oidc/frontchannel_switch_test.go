package oidc_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/signout"
)

// switchPage checks that p is a front-channel page (F2): a 200 that loads,
// in hidden iframes, exactly the registered pages of the apps in sids,
// each with iss and that app's sid, and whose CSP allows exactly their
// origins as frames and its script. It returns where its meta refresh
// goes.
func switchPage(t *testing.T, s *sesametest.Sesame, p sesametest.Page, sids map[string]string) string {
	t.Helper()
	fc := sesametest.ParseFrontchannelPage(t, p)
	want, origins := s.FrontchannelFrames(sids)
	if got := fc.FrameURLs(); !slices.Equal(got, want) {
		t.Errorf("frames\n %q\nwant the previous account's\n %q", got, want)
	}
	if csp := p.Header.Get("Content-Security-Policy"); !slices.Equal(fc.FrameSrc, origins) || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("CSP %q: want a frame-src of exactly %q and the script's nonce", csp, origins)
	}
	if !strings.Contains(p.Body, "Signing the previous account out") {
		t.Errorf("the page does not say what it does: %s", p.Body)
	}
	if !fc.Refresh {
		t.Fatalf("no meta refresh: %s", p.Body)
	}
	return fc.Target
}

// S7, F2, O9: a sign-in as another account than the browser's signs that
// account out of the browser first. When its apps have front-channel
// pages, the sign-in's last step is the page that loads them, with the
// previous account's sids, and then goes on by meta refresh to where the
// sign-in would have redirected: the app with its code, state and iss, or
// the consent page. The previous account's receipt records the pages.
// Without such apps the sign-in stays a 303 to the app.
func TestSignInAsAnotherAccountLoadsFrontchannelPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		// frontchannel are the apps with a page; to is the app alice
		// signs in to.
		frontchannel []string
		to           string
	}{
		{"to an app", []string{sesametest.AppA, sesametest.AppB}, sesametest.AppD},
		{"to an app that asks consent", []string{sesametest.AppA}, sesametest.ThirdParty},
		{"no app with a page", nil, sesametest.AppD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
				s := sesametest.New(t, opts.WithFrontchannel(tc.frontchannel...))
				b := s.NewBrowser(t)
				sids := map[string]string{}
				for _, id := range []string{sesametest.AppA, sesametest.AppB, sesametest.AppC} {
					sid, _ := s.IDClaims(t, b.SignedIn(id, "bob", nil).IDToken)["sid"].(string)
					if slices.Contains(tc.frontchannel, id) {
						sids[id] = sid
					}
				}

				page := b.Get(s.AuthURL(tc.to, url.Values{"prompt": {"login"}}))
				if !sesametest.IsSignInPage(page) {
					t.Fatalf("no sign-in page: %d", page.Status)
				}
				last := b.Submit(page, map[string]string{"username": "alice", "password": sesametest.Password})
				if tc.frontchannel != nil {
					// The refresh goes where the sign-in's 303 would have.
					target := switchPage(t, s, last, sids)
					last = sesametest.Page{Status: http.StatusSeeOther, Location: target}
					if tc.to == sesametest.ThirdParty {
						next := b.Get(s.URL + target)
						if !strings.HasPrefix(target, "/oidc/interaction/") || !sesametest.IsConsentPage(next) {
							t.Fatalf("the page goes on to %q, answered %d, want the consent page", target, next.Status)
						}
						last = b.Submit(next, map[string]string{"decision": "allow"})
					}
				}
				cb := sesametest.Landed(t, last)
				if cb.URL.Host != tc.to+".example" || cb.Code == "" || cb.State != "state-123" || cb.Iss != s.Issuer {
					t.Fatalf("landed at %s, want %s's callback with code, state and iss", cb.URL, tc.to)
				}
				alice, _ := s.Store.AccountByUsername(t.Context(), "alice")
				if tok := s.Exchange(t, tc.to, cb.Code, ""); tok.Status != http.StatusOK {
					t.Errorf("the code after the page: %d %s", tok.Status, tok.Error)
				} else if sub := s.IDClaims(t, tok.IDToken)["sub"]; sub != alice.ID {
					t.Errorf("the code signs in %v, want alice", sub)
				}

				bob, _ := s.Store.AccountByUsername(t.Context(), "bob")
				recs, err := s.Store.ReceiptsByAccount(t.Context(), bob.ID, 5)
				if err != nil || len(recs) != 1 || recs[0].Cause != signout.CauseAccountSwitch {
					t.Fatalf("bob's receipts %+v, %v", recs, err)
				}
				for _, o := range recs[0].Outcomes {
					want := ""
					if slices.Contains(tc.frontchannel, o.ClientID) {
						want = sesametest.FrontchannelURI(o.ClientID)
					}
					if o.FrontchannelURI != want {
						t.Errorf("receipt: %s's front-channel page %q, want %q", o.ClientID, o.FrontchannelURI, want)
					}
				}
			})
		})
	}
}
