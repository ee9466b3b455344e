package activity

// Measure names one hourly counter. The names are stored: never rename
// one, add a new one instead.
type Measure string

// Counters: each event adds one to the hour's count.
const (
	// SignInPassword is a sign-in on Sesame's sign-in page.
	SignInPassword Measure = "sign_in.password"
	// SignInSSO is a code issued from an existing session without the
	// sign-in page (S4).
	SignInSSO Measure = "sign_in.sso"

	// SignOutApp, SignOutBrowser and SignOutAllDevices are the sign-outs
	// of each layer (O5, O4, O6); an admin's revocation counts as its
	// layer (a session: browser; a grant: app).
	SignOutApp        Measure = "sign_out.app"
	SignOutBrowser    Measure = "sign_out.browser"
	SignOutAllDevices Measure = "sign_out.all_devices"

	// DeliveryDelivered, DeliveryRetry and DeliveryFailed are back-channel
	// logout attempts by outcome (B2): delivered, failed and to be
	// retried, failed for good.
	DeliveryDelivered Measure = "delivery.delivered"
	DeliveryRetry     Measure = "delivery.retry"
	DeliveryFailed    Measure = "delivery.failed"
)

// Observations: each adds one to the hour's count and its value to the
// sum, so sum / count is the hour's mean.
const (
	// DeliveryLatency is the time an attempt's HTTP exchange took, in
	// microseconds.
	DeliveryLatency Measure = "delivery.latency_us"
	// ActiveSessions is a sample of the live sessions, taken by each
	// instance once an hour: the mean of the hour's samples is the gauge.
	ActiveSessions Measure = "sessions.active"
)

// SignOut is the measure of a sign-out of scope, as package signout names
// its layers (app, browser, all_devices).
func SignOut(scope string) Measure {
	return Measure("sign_out." + scope)
}
