package endsession

import (
	"math"
	"net/http"
	"time"

	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
)

// frontchannelPage is what the last page of a sign-out says besides its
// frames.
type frontchannelPage struct {
	// target is where the person goes next (O8): the registered
	// post_logout_redirect_uri with state, or "" for the done page.
	target  string
	appOnly bool
	// waited is how long the request already waited for the back-channel
	// deliveries (B3).
	waited time.Duration
}

// frontchannel answers the last step of a sign-out that ended the
// sessions of apps with a front-channel logout page (F2, FCL §3): a 200
// page that loads each page, with iss and sid, in a hidden iframe and
// then goes on to the target by a meta refresh (or at once, by its
// script, when every frame has loaded). Both channels share one wait,
// backchannel_wait: the refresh comes after what is left of it once the
// back-channel attempts have had their turn, rounded up to whole seconds
// (a refresh counts in seconds, and the frames must not get less than the
// rest of the wait), and at least one second later, so the frames get
// their chance even when a slow app used it up.
func (h *Handler) frontchannel(w http.ResponseWriter, r *http.Request, pages []signout.Frontchannel, p frontchannelPage) {
	d := ui.FrontchannelData{Target: p.target, AppOnly: p.appOnly,
		Delay: max(1, int(math.Ceil((h.Service.Wait - p.waited).Seconds())))}
	for _, f := range pages {
		d.Frames = append(d.Frames, ui.Frame{App: h.appNameOf(r, f.ClientID), URL: f.URL(h.Issuer)})
	}
	if p.target != "" {
		d.Nonce, _ = token.NewValue()
	}
	h.Pages.Frontchannel(w, d)
}
