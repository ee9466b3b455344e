package demo

import (
	"html/template"
	"log/slog"
	"net/http"
)

// frontchannelPage is what the hidden frame shows: nobody sees it, but a
// page with a language and a title is still a page.
var frontchannelPage = template.Must(template.New("frontchannel").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} · front-channel logout</title></head>
<body><p>{{.}} has heard from Sesame.</p></body></html>
`))

// frontchannelLogout serves GET /frontchannel-logout, the page Sesame's
// sign-out page loads in a hidden frame (Front-Channel Logout 1.0 §2-§3).
// With Sesame's iss and the sid of a session here it ends that session,
// as a back-channel logout for that sid would (EndBySID's code, with the
// channel the page will name). The sid identifies the session, not the
// session cookie: a browser sends no SameSite=Lax cookie in a frame of
// another site's page, and may send no third-party cookie at all, so an
// app on another site than Sesame never sees its own cookie here.
//
// It answers the same small page, never cached (§3), whether or not
// anything matched: a sid the app no longer has (its own sign-out, or a
// back-channel logout that came first) is the usual case, and the frame's
// load is what lets Sesame's page go on.
func (a *App) frontchannelLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if len(q["iss"]) == 1 && len(q["sid"]) == 1 && q.Get("iss") == a.issuer && q.Get("sid") != "" {
		sid := q.Get("sid")
		n, err := a.Sessions.EndBySIDFrontchannel(r.Context(), sid)
		switch {
		case err != nil:
			a.logError(r, "front-channel logout", err)
		case a.Logger != nil:
			a.Logger.LogAttrs(r.Context(), slog.LevelInfo, "signed out by front-channel logout",
				slog.String("app", a.Name), slog.String("sid", sid), slog.Int("sessions", n))
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := frontchannelPage.Execute(w, a.Name); err != nil {
		a.logError(r, "render front-channel page", err)
	}
}
