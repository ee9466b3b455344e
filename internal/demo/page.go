package demo

import (
	"html/template"
	"net/http"
)

// The notes the page shows. Each says only what the app itself did or
// received: its own sign-out, or a back-channel or front-channel logout,
// which carries no reason.
const (
	noteSSO      = "You were signed in without typing a password: single sign-on through your Sesame session."
	notePassword = "You signed in with your password at Sesame."
	// noteNotified follows a back-channel logout for the session this
	// browser held: the app did nothing, it was told.
	noteNotified = "Sesame told this app, by back-channel logout, that your session ended " +
		"(you may have signed out in another app or on your account page, or an administrator ended it). " +
		"Sign in again to continue."
	// noteNotifiedFront follows a front-channel logout for the session
	// this browser held. Sesame loads that page only from its sign-out
	// page, in the browser that signs out, so the app can say that much.
	noteNotifiedFront = "Sesame told this app, by front-channel logout, that your session ended " +
		"(you signed out at Sesame in this browser, through this app or another). " +
		"Sign in again to continue."
	// noteHereOnly follows the app's own "this app only" sign-out, which
	// never reaches Sesame.
	noteHereOnly = "This app did not ask Sesame to sign you out, so you may still be signed in to Sesame and to other apps."
)

// signedOutOf is the note after the app's own sign-out. After a sign-out
// through Sesame nothing more is said: the app cannot know whether the
// person then chose "this app only", every app, or Cancel.
func signedOutOf(app string) string { return "You signed out of " + app + "." }

// pageData is what the page shows.
type pageData struct {
	App, User string
	// Notes explain what just happened, in words.
	Notes []string
	// Problem says what went wrong and what to do.
	Problem string
	// Orders, when the app reads the Orders API, is what it found.
	Orders *ordersView
}

// Colours, chosen for WCAG AA contrast (4.5:1 or more) in the pairs
// contrastPairs lists; page_test.go checks them.
const (
	colText    = "#1b1b1b"
	colMuted   = "#4a4a4a"
	colPage    = "#ffffff"
	colAccent  = "#0b57d0"
	colNote    = "#eef3ff"
	colProblem = "#fdecea"
	colDanger  = "#b3261e"
)

// contrastPairs are the foreground and background colours the stylesheet
// puts together.
var contrastPairs = [][2]string{
	{colText, colPage}, {colMuted, colPage}, {colAccent, colPage}, {colPage, colAccent},
	{colText, colNote}, {colText, colProblem},
}

// style reads at 360 px wide: no fixed widths, wrapping text, actions
// stacked, touch targets of 44 px.
const style = `body{margin:0;background:` + colPage + `;color:` + colText + `;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem 3rem;overflow-wrap:anywhere}
h1{font-size:1.75rem;line-height:1.2;margin:0 0 .25rem}
h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
.about{color:` + colMuted + `;margin:0 0 1.25rem}
.state{font-size:1.15rem;margin:0 0 1rem}
.note,.problem{padding:.75rem 1rem;border-radius:6px;margin:0 0 1rem}
.note{background:` + colNote + `;border:1px solid ` + colAccent + `}
.problem{background:` + colProblem + `;border:1px solid ` + colDanger + `}
.note p,.problem p{margin:0}.note p+p{margin-top:.5rem}
ul.actions{list-style:none;padding:0;margin:1.5rem 0 0;display:flex;flex-direction:column;gap:1rem}
.button{display:inline-flex;align-items:center;min-height:44px;box-sizing:border-box;padding:.5rem 1.25rem;border-radius:6px;border:2px solid ` + colAccent + `;font-weight:600;text-decoration:none}
.primary{background:` + colAccent + `;color:` + colPage + `}
.secondary{background:` + colPage + `;color:` + colAccent + `}
.button:focus-visible{outline:3px solid ` + colText + `;outline-offset:2px}
.hint{display:block;color:` + colMuted + `;font-size:.95rem;margin-top:.25rem}`

var tmpl = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.App}} · Sesame demo</title>
<style>` + style + `</style>
</head>
<body>
<main>
<h1>{{.App}}</h1>
<p class="about">A sample app that signs people in with Sesame.</p>
{{if .User}}<p class="state"><strong>Signed in as {{.User}}</strong></p>{{else}}<p class="state"><strong>Not signed in</strong></p>{{end}}
{{with .Problem}}<div class="problem" role="alert"><p>{{.}}</p></div>{{end}}
{{with .Notes}}<div class="note" role="status">{{range .}}<p>{{.}}</p>{{end}}</div>{{end}}
{{with .Orders}}<section aria-labelledby="orders">
<h2 id="orders">Your orders</h2>
{{if .Refused}}<div class="problem" role="alert"><p>{{.Refused}}</p></div>{{else}}<p>Your account may read orders: the Orders API accepted the token Sesame gave this app for it, with read:orders, and answered:</p>
<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>{{end}}
<nav aria-label="Account">
<ul class="actions">
{{if .User}}<li><a class="button primary" href="/sign-out" aria-describedby="sign-out-hint">Sign out</a>
<span class="hint" id="sign-out-hint">Signs you out here and sends you to Sesame, which signs you out of your other apps in this browser too, or asks you first.</span></li>
<li><a class="button secondary" href="/sign-out-here" aria-describedby="sign-out-here-hint">Sign out of this app only</a>
<span class="hint" id="sign-out-here-hint">Ends your session in {{.App}} only; this app does not ask Sesame to sign you out.</span></li>
{{else}}<li><a class="button primary" href="/sign-in">Sign in with Sesame</a></li>{{end}}
</ul>
</nav>
</main>
</body>
</html>
`))

// page writes the app's one page.
func (a *App) page(w http.ResponseWriter, status int, d pageData) {
	d.App = a.Name
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := tmpl.Execute(w, d); err != nil && a.Logger != nil {
		a.Logger.Error("render demo page", "err", err)
	}
}
