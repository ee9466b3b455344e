package demo

import "net/http"

// The note cookie carries, for one page view, what the app itself just
// did: a sign-in (by password or single sign-on) or a sign-out. It is set
// by the app's own handlers only, and read once, so a link cannot make the
// page claim something that did not happen here (a query parameter could).
const (
	noteSSOKey           = "sso"
	notePasswordKey      = "password"
	noteSignedOutKey     = "signed-out"
	noteSignedOutHereKey = "signed-out-here"
	noteNotifiedKey      = "notified"
	noteNotifiedFrontKey = "notified-front"
)

// toldNoteKeys are the notes of a session Sesame told the app to end, by
// channel.
var toldNoteKeys = map[Channel]string{Backchannel: noteNotifiedKey, Frontchannel: noteNotifiedFrontKey}

// noteTTL bounds how long a note waits for its page: long enough for a
// person deciding on Sesame's sign-out page.
const noteTTL = 15 * 60 // seconds

func (a *App) noteCookie() string { return a.CookieName + "_note" }

func (a *App) setNote(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: a.noteCookie(), Value: key, Path: "/", MaxAge: noteTTL,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (a *App) clearNote(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: a.noteCookie(), Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// takeNote returns the request's note, if any, and clears it.
func (a *App) takeNote(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(a.noteCookie())
	if err != nil {
		return ""
	}
	a.clearNote(w)
	switch c.Value {
	case noteSSOKey, notePasswordKey, noteSignedOutKey, noteSignedOutHereKey, noteNotifiedKey, noteNotifiedFrontKey:
		return c.Value
	}
	return ""
}
